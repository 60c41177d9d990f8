"""SLA and volume figures (officers, the gateway and other agencies; not citizens)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from egov_licensing.api.auth import officer_actor
from egov_licensing.api.deps import context, uows
from egov_licensing.service_layer import services
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.services import UowFactory
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.errors import PermissionDenied
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["statistics"], responses=PROBLEM_RESPONSES)


class StatsOut(BaseModel):
    at: datetime
    applications: dict[str, Any]
    licenses: dict[str, int]


@router.get(
    "/stats", response_model=StatsOut, summary="Applications by status, SLA violations, licenses"
)
async def stats(
    call: Annotated[RoutedCall, Depends(routed_call)],
    ctx: Annotated[LicensingContext, Depends(context)],
    make: Annotated[UowFactory, Depends(uows)],
) -> StatsOut:
    if call.is_citizen and officer_actor(call, ctx.settings) is None:
        raise PermissionDenied("statistics are for officers and agencies")
    return StatsOut.model_validate(await services.stats(ctx, make()))
