"""Dev mode only (never mounted otherwise): the portal's development banner.

In dev mode no SMS leaves the machine; identity keeps the texts in its outbox. The banner
shows a person the code of *their own* login in progress: it names the challenge the login
answered with (which only whoever knew the password holds) and gets that challenge's code
from identity — never a phone's other texts, never anyone else's codes.
"""

from __future__ import annotations

import uuid

import httpx
from fastapi import APIRouter
from pydantic import BaseModel

from egov_gateway.api.dependencies import Gateway
from meshkit.errors import NotFound, UpstreamUnavailable
from meshkit.problems import problem_responses

#: 503 when identity (which holds the dev SMS outbox) cannot be reached
router = APIRouter(tags=["dev only"], responses=problem_responses(503))


class DevCodeOut(BaseModel):
    code: str
    sent_to: str
    purpose: str
    dev_only: bool = True


@router.get(
    "/api/v1/dev/codes/{challenge_id}",
    response_model=DevCodeOut,
    summary="DEV MODE: the one-time code a challenge sent (what the SMS would say)",
)
async def dev_code(challenge_id: uuid.UUID, gw: Gateway) -> DevCodeOut:
    # identity's challenge ids are UUIDs: anything else is a 422 here, never a URL built from it
    url = f"{gw.settings.identity_url.rstrip('/')}/dev/sms/challenges/{challenge_id}"
    try:
        async with httpx.AsyncClient(timeout=5, trust_env=False) as http:
            resp = await http.get(url)
    except httpx.HTTPError:
        raise UpstreamUnavailable("identity is unreachable", retry_after_s=1) from None
    if resp.status_code != 200:
        raise NotFound("no code was sent for this challenge")
    found = resp.json()
    return DevCodeOut(code=found["code"], sent_to=found["sent_to"], purpose=found["purpose"])
