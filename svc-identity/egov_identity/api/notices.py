"""Notices by SMS for other members of the exchange (the gateway's citizen notifications)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from egov_identity.api.deps import Call, IdentityDep
from egov_identity.service_layer.notices import queue_notice_sms
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["notices"], responses=PROBLEM_RESPONSES)


class NoticeSmsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iin: IIN
    text: Annotated[str, Field(min_length=1, max_length=300)]
    reference: Annotated[str | None, Field(default=None, max_length=100)] = None


class NoticeSmsOut(BaseModel):
    queued: bool
    phone: str = Field(description="the registered phone it goes to, masked")


@router.post(
    "/notifications/sms",
    status_code=202,
    response_model=NoticeSmsOut,
    summary="Queue an SMS notice to a person's registered phone (agencies; the gateway)",
)
async def notice_sms(body: NoticeSmsIn, call: Call, idy: IdentityDep) -> NoticeSmsOut:
    masked = await queue_notice_sms(idy.new_uow(), call, body.iin, body.text, idy.clock.now())
    return NoticeSmsOut(queued=True, phone=masked)
