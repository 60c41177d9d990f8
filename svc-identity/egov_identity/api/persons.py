"""SDB Individuals (routed through the gateway: every endpoint needs the gateway assertion)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from egov_identity.api.deps import Call, IdentityDep
from egov_identity.api.schemas import (
    DataHolder,
    DataHoldersOut,
    DeathIn,
    person_out,
    person_summary,
)
from egov_identity.service_layer import consents as consent_uc
from egov_identity.service_layer import persons as uc
from meshkit.contracts.identity import FamilyOut, PersonCreate, PersonOut, PersonPage, PersonUpdate
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["persons"], responses=PROBLEM_RESPONSES)


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonOut,
    summary="Register a person and allocate the IIN (registrars only)",
)
async def create_person(
    body: PersonCreate,
    call: Call,
    idy: IdentityDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> PersonOut:
    done = await uc.register_person(
        idy.uow,
        call,
        body,
        idempotency_key=idempotency_key,
        registrars=idy.settings.person_registrars,
        now=idy.clock.now(),
    )
    if not done.created:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/persons/{done.person.iin}"
    return person_out(done.person)


@router.get("/persons", response_model=PersonPage, summary="Search persons (agencies, operators)")
async def search_persons(
    call: Call,
    idy: IdentityDep,
    iin: IIN | None = None,
    surname: Annotated[str | None, Query(max_length=100)] = None,
    given_name: Annotated[str | None, Query(max_length=100)] = None,
    birth_date: date | None = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PersonPage:
    items, total = await uc.search_persons(
        idy.new_uow(),
        call,
        iin=iin,
        surname=surname,
        given_name=given_name,
        birth_date=birth_date,
        page=page,
        size=size,
    )
    return PersonPage(items=[person_summary(p) for p in items], total=total, page=page, size=size)


@router.get("/persons/{iin}", response_model=PersonOut, summary="Read a person by IIN")
async def read_person(iin: IIN, call: Call, idy: IdentityDep) -> PersonOut:
    now = idy.clock.now()
    person = await uc.read_person(idy.person_record, call, iin, now.date())
    if not call.is_citizen:
        idy.disclosures.record(iin, call.client, call.purpose, now)
    return person_out(person)


@router.patch("/persons/{iin}", response_model=PersonOut, summary="Change name, address or phone")
async def update_person(iin: IIN, body: PersonUpdate, call: Call, idy: IdentityDep) -> PersonOut:
    person = await uc.update_person(
        idy.new_uow(),
        call,
        iin,
        body.model_dump(exclude_unset=True),
        registrars=idy.settings.person_registrars,
        now=idy.clock.now(),
    )
    return person_out(person)


@router.post(
    "/persons/{iin}/death",
    response_model=PersonOut,
    summary="Mark a person deceased (registrars; usually by the registry's death event)",
)
async def mark_deceased(iin: IIN, body: DeathIn, call: Call, idy: IdentityDep) -> PersonOut:
    if call.is_citizen or call.client not in idy.settings.person_registrars:
        from meshkit.errors import PermissionDenied

        raise PermissionDenied("only a civil registrar records a death")
    person = await uc.record_death(
        idy.new_uow(), iin, body.date_of_death, body.act_number, idy.clock.now()
    )
    return person_out(person)


@router.get("/persons/{iin}/family", response_model=FamilyOut, summary="Parents and children")
async def family(iin: IIN, call: Call, idy: IdentityDep) -> FamilyOut:
    fam = await uc.family_of(idy.new_uow(), call, iin)
    return FamilyOut(
        iin=iin,
        mother=person_summary(fam.mother) if fam.mother else None,
        father=person_summary(fam.father) if fam.father else None,
        children=[person_summary(c) for c in fam.children],
    )


@router.get(
    "/persons/{iin}/data-holders",
    response_model=DataHoldersOut,
    summary="Who holds which of this person's data (the citizen's own view)",
)
async def data_holders(iin: IIN, call: Call, idy: IdentityDep) -> DataHoldersOut:
    await idy.disclosures.flush()  # this instance's latest reads are part of the answer
    rows = await consent_uc.data_holders(idy.new_uow(), call, iin, idy.clock.now())
    return DataHoldersOut(iin=iin, holders=[DataHolder(**r) for r in rows])
