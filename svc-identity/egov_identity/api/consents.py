"""Consents (routed): citizens grant and revoke; agencies check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from egov_identity.api.deps import Call, IdentityDep
from egov_identity.api.schemas import ConsentIn, ConsentOut
from egov_identity.service_layer import consents as uc
from meshkit.contracts.identity import ConsentCategory, ConsentCheckOut
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/consents", tags=["consents"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=ConsentOut, summary="Grant a consent (citizen)")
async def grant(body: ConsentIn, call: Call, idy: IdentityDep) -> ConsentOut:
    now = idy.clock.now()
    consent = await uc.grant_consent(
        idy.new_uow(),
        call,
        agency=body.agency,
        categories=body.categories,
        purpose=body.purpose,
        expires_at=body.expires_at,
        now=now,
    )
    return ConsentOut.of(consent, now)


@router.get("/check", response_model=ConsentCheckOut, summary="Does an agency hold a consent now?")
async def check(
    call: Call,
    idy: IdentityDep,
    iin: IIN,
    agency: Annotated[str, Query(min_length=2, max_length=64)],
    category: ConsentCategory,
) -> ConsentCheckOut:
    found = await uc.check_consent(
        idy.new_uow(), call, iin=iin, agency=agency, category=category, now=idy.clock.now()
    )
    c = found.consent
    return ConsentCheckOut(
        allowed=found.allowed,
        consent_id=c.id if c else None,
        expires_at=c.expires_at if c else None,
        purpose=c.purpose if c else None,
    )


@router.get("", response_model=list[ConsentOut], summary="Consents (a citizen's own; an agency's)")
async def list_consents(
    call: Call,
    idy: IdentityDep,
    iin: IIN | None = None,
    agency: Annotated[str | None, Query(max_length=64)] = None,
) -> list[ConsentOut]:
    now = idy.clock.now()
    found = await uc.list_consents(idy.new_uow(), call, iin=iin, agency=agency)
    return [ConsentOut.of(c, now) for c in found]


@router.delete("/{consent_id}", response_model=ConsentOut, summary="Revoke a consent (citizen)")
async def revoke(consent_id: str, call: Call, idy: IdentityDep) -> ConsentOut:
    now = idy.clock.now()
    consent = await uc.revoke_consent(idy.new_uow(), call, consent_id, now)
    return ConsentOut.of(consent, now)
