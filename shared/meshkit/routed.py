"""``GET /mesh/whoami``: how an agency sees a call routed to it (a diagnostic every agency
exposes; it answers only calls carrying a valid gateway assertion)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.problems import PROBLEM_RESPONSES

#: an agency names the person (IIN) or entity (BIN) whose data a routed answer holds, when the
#: request named something else (an invoice id, an act number): the gateway records it as the
#: audit record's data subject, so the person sees the access in "who accessed my data"
DATA_SUBJECT_HEADER = "X-Mesh-Data-Subject"


def name_data_subject(response: Response, identifier: str | None) -> None:
    if identifier and len(identifier) == 12 and identifier.isdigit():
        response.headers[DATA_SUBJECT_HEADER] = identifier


router = APIRouter(prefix="/mesh", tags=["diagnostics"], responses=PROBLEM_RESPONSES)


@router.get("/whoami", response_model=RoutedCall, summary="The routed call as this agency sees it")
async def whoami(call: Annotated[RoutedCall, Depends(routed_call)]) -> RoutedCall:
    return call
