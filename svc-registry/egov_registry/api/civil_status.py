"""Routed endpoints: births and deaths (civil-status acts)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response, status

from egov_registry.api.deps import Caller, Components, Uow
from egov_registry.api.schemas import birth_out, death_notice_out, death_out
from egov_registry.service_layer import civil_status
from meshkit.contracts.registry import (
    BirthActOut,
    BirthCreate,
    DeathActOut,
    DeathActSummary,
    DeathCreate,
    DeathNoticeCreate,
    DeathNoticeOut,
)
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_JSON, PROBLEM_RESPONSES, Problem

#: answered when a party this operation must consult (identity, the national CA) is down
UPSTREAM_DOWN: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Problem,
        "content": {PROBLEM_JSON: {}},
        "description": "A service this operation depends on is unavailable",
    }
}

router = APIRouter(tags=["civil status"], responses=PROBLEM_RESPONSES)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="same key → the first act; same key with another body → 409",
    ),
]
REPLAYED = "Idempotent-Replayed"


@router.post(
    "/births",
    responses=UPSTREAM_DOWN,
    response_model=BirthActOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a birth (identity creates the child and allocates the IIN)",
)
async def register_birth(
    body: BirthCreate,
    uow: Uow,
    caller: Caller,
    components: Components,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BirthActOut:
    act, replayed = await civil_status.register_birth(
        uow, components.identity, caller, body, idempotency_key
    )
    if replayed:
        response.headers[REPLAYED] = "true"
    return birth_out(act)


@router.get(
    "/births/{act_number}",
    response_model=BirthActOut,
    summary="A birth act (agencies; a parent reads their child's act)",
)
async def get_birth(act_number: str, uow: Uow, caller: Caller) -> BirthActOut:
    return birth_out(await civil_status.birth_act(uow, caller, act_number))


@router.post(
    "/deaths",
    responses=UPSTREAM_DOWN,
    response_model=DeathActOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a death (agencies; a citizen: of a parent or child, or with a medical "
    "death notice on file)",
)
async def register_death(
    body: DeathCreate,
    uow: Uow,
    caller: Caller,
    components: Components,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DeathActOut:
    act, replayed = await civil_status.register_death(
        uow, components.identity, caller, body, idempotency_key
    )
    if replayed:
        response.headers[REPLAYED] = "true"
    return death_out(act)


@router.get(
    "/deaths",
    response_model=list[DeathActSummary],
    summary="The death acts of a person (agencies): an empty list when none is on record",
)
async def deaths_of(
    iin: Annotated[IIN, Query(description="the person's IIN")], uow: Uow, caller: Caller
) -> list[DeathActSummary]:
    acts = await civil_status.deaths_of(uow, caller, iin)
    return [
        DeathActSummary(
            act_number=a.act_number,
            iin=a.iin,
            date_of_death=a.date_of_death,
            registered_at=a.registered_at,
            declarant_iin=a.declarant_iin,
        )
        for a in acts
    ]


@router.get(
    "/deaths/{act_number}",
    responses=UPSTREAM_DOWN,
    response_model=DeathActOut,
    summary="A death act (agencies; the citizen who declared it; a parent or child)",
)
async def get_death(
    act_number: str, uow: Uow, caller: Caller, components: Components
) -> DeathActOut:
    return death_out(await civil_status.death_act(uow, components.identity, caller, act_number))


@router.post(
    "/death-notices",
    response_model=DeathNoticeOut,
    status_code=status.HTTP_201_CREATED,
    summary="File a medical death notice (agencies); the death act it leads to consumes it",
)
async def file_death_notice(
    body: DeathNoticeCreate,
    uow: Uow,
    caller: Caller,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DeathNoticeOut:
    notice, replayed = await civil_status.file_death_notice(uow, caller, body, idempotency_key)
    if replayed:
        response.headers[REPLAYED] = "true"
    return death_notice_out(notice)


@router.get(
    "/death-notices/{notice_id}",
    response_model=DeathNoticeOut,
    summary="A medical death notice and the act that consumed it, if any (agencies)",
)
async def get_death_notice(
    notice_id: Annotated[str, Path(max_length=36)], uow: Uow, caller: Caller
) -> DeathNoticeOut:
    return death_notice_out(await civil_status.death_notice(uow, caller, notice_id))
