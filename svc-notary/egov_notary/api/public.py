"""Public verification of a notarial act (no gateway assertion: anyone holding the printed
act checks it by its number and verification code)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from egov_notary.api.deps import UoW
from egov_notary.api.schemas import PublicActOut, public_view
from egov_notary.service_layer import services
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/public", tags=["public verification"], responses=PROBLEM_RESPONSES)


@router.get(
    "/acts/{number}",
    response_model=PublicActOut,
    summary="PUBLIC — verify an act by number and verification code: who, what, when, status",
)
async def verify_act(
    number: Annotated[str, Path(min_length=3, max_length=24, examples=["N-2026-000123"])],
    uow: UoW,
    code: Annotated[str, Query(min_length=4, max_length=16, description="verification code")],
) -> PublicActOut:
    act, notary, status = await services.verify_publicly(uow, number, code)
    return public_view(act, notary, status)
