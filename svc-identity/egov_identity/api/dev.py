"""Dev mode only (never mounted otherwise): read the SMS outbox (tests and the demo)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query

from egov_identity.api.deps import IdentityDep
from egov_identity.api.schemas import ChallengeCodeOut, SmsOut
from egov_identity.domain.credentials import mask_phone
from meshkit.errors import NotFound
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


@router.get(
    "/sms/challenges/{challenge_id}",
    response_model=ChallengeCodeOut,
    summary="The code one challenge sent (the portal's development banner)",
    description="Only the code of the challenge named — what whoever started that login "
    "already holds the id of — never other texts of the phone.",
)
async def challenge_code(idy: IdentityDep, challenge_id: str) -> ChallengeCodeOut:
    uow = idy.new_uow()
    async with uow:
        challenge = await uow.credentials.get_otp(challenge_id[:64])
        row = (
            await uow.sms.first_since(challenge.phone, challenge.purpose, challenge.created_at)
            if challenge is not None and challenge.phone
            else None
        )
    found = _CODE.search(row["text"]) if row else None
    if challenge is None or row is None or found is None:
        raise NotFound("no code was sent for this challenge")
    return ChallengeCodeOut(
        challenge_id=challenge.id,
        sent_to=mask_phone(challenge.phone),
        purpose=challenge.purpose,
        code=found.group(1),
        created_at=row["created_at"],
    )
