"""Routed endpoints: the register of legal entities (SDB "Legal Entities")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from egov_registry.api.civil_status import REPLAYED, IdempotencyKey
from egov_registry.api.deps import Caller, Components, Uow
from egov_registry.api.schemas import LegalEntityPage, entity_out
from egov_registry.service_layer import legal_entities
from meshkit.contracts.registry import (
    LegalEntityCreate,
    LegalEntityOut,
    LegalEntityStatusChange,
)
from meshkit.ids import BIN
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/legal-entities", tags=["legal entities"], responses=PROBLEM_RESPONSES)

BinPath = Annotated[BIN, Path(description="the entity's BIN")]


@router.post(
    "",
    response_model=LegalEntityOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a legal entity: founders checked in identity, a new BIN allocated",
)
async def register(
    body: LegalEntityCreate,
    uow: Uow,
    caller: Caller,
    components: Components,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> LegalEntityOut:
    entity, replayed = await legal_entities.register_legal_entity(
        uow, components.identity, caller, body, idempotency_key
    )
    if replayed:
        response.headers[REPLAYED] = "true"
    return entity_out(entity)


@router.get("", response_model=LegalEntityPage, summary="Search legal entities by name (kk/ru)")
async def search(
    uow: Uow,
    caller: Caller,
    q: Annotated[str, Query(max_length=100, description="part of the name, any case")] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> LegalEntityPage:
    items, total = await legal_entities.search(uow, q.strip(), limit=limit, offset=offset)
    return LegalEntityPage(
        items=[entity_out(e) for e in items], total=total, limit=limit, offset=offset
    )


@router.get("/{bin}", response_model=LegalEntityOut, summary="A legal entity by BIN")
async def get_entity(bin: BinPath, uow: Uow, caller: Caller) -> LegalEntityOut:
    return entity_out(await legal_entities.legal_entity(uow, bin))


@router.post(
    "/{bin}/status",
    response_model=LegalEntityOut,
    summary="Change the status (active, suspended, liquidated) with a reason and a date",
)
async def change_status(
    bin: BinPath, body: LegalEntityStatusChange, uow: Uow, caller: Caller
) -> LegalEntityOut:
    return entity_out(await legal_entities.change_status(uow, caller, bin, body))
