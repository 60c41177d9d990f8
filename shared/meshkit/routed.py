"""``GET /mesh/whoami``: how an agency sees a call routed to it (a diagnostic every agency
exposes; it answers only calls carrying a valid gateway assertion)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/mesh", tags=["diagnostics"], responses=PROBLEM_RESPONSES)


@router.get("/whoami", response_model=RoutedCall, summary="The routed call as this agency sees it")
async def whoami(call: Annotated[RoutedCall, Depends(routed_call)]) -> RoutedCall:
    return call
