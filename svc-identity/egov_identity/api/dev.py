"""Dev mode only (never mounted otherwise): read the SMS outbox (tests and the demo)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query

from egov_identity.api.deps import IdentityDep
from egov_identity.api.schemas import SmsOut
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/dev", tags=["dev only"], responses=PROBLEM_RESPONSES)
_CODE = re.compile(r"\b([0-9]{6})\b")


@router.get("/sms", response_model=list[SmsOut], summary="Texts sent to a phone, newest first")
async def sms(
    idy: IdentityDep,
    phone: Annotated[str, Query(pattern=r"^\+?[0-9]{10,15}$")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[SmsOut]:
    uow = idy.new_uow()
    async with uow:
        rows = await uow.sms.for_phone(phone, limit)
    out = []
    for r in rows:
        found = _CODE.search(r["text"])
        out.append(SmsOut(**r, code=found.group(1) if found else None))
    return out
