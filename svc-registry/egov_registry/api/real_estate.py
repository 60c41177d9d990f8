"""Routed endpoints: real-estate objects, owners and encumbrances."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from egov_registry.api.deps import Caller, Uow
from egov_registry.api.schemas import (
    CADASTRAL_PATTERN,
    EncumbranceCreate,
    EncumbranceRelease,
    PropertyCreate,
    PropertyList,
    encumbrance_out,
    property_out,
)
from egov_registry.domain.real_estate import Stake
from egov_registry.service_layer import real_estate
from meshkit.contracts.registry import Encumbrance, PropertyOut
from meshkit.ids import IINOrBIN
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["real estate"], responses=PROBLEM_RESPONSES)

CadastralNumber = Annotated[
    str, Path(pattern=CADASTRAL_PATTERN, description="e.g. 21:318:010:123:4")
]


@router.post(
    "/properties",
    response_model=PropertyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a real-estate object with its owners (operators, agencies)",
)
async def register_property(body: PropertyCreate, uow: Uow, caller: Caller) -> PropertyOut:
    prop = await real_estate.register_property(
        uow,
        caller,
        real_estate.NewProperty(
            cadastral_number=body.cadastral_number,
            kind=body.kind,
            address=body.address,
            area_m2=body.area_m2,
            owners=[Stake(h.id, h.share.fraction) for h in body.owners],
        ),
    )
    return property_out(prop)


@router.get(
    "/properties",
    response_model=PropertyList,
    summary="The real estate a person or entity holds (a citizen: only their own)",
)
async def properties_of(
    holder: Annotated[IINOrBIN, Query(description="IIN or BIN of the holder")],
    uow: Uow,
    caller: Caller,
) -> PropertyList:
    items = await real_estate.properties_of(uow, caller, holder)
    return PropertyList(holder=holder, items=[property_out(p) for p in items])


@router.get(
    "/properties/{cadastral_number}",
    response_model=PropertyOut,
    summary="A real-estate object: owners and encumbrances",
)
async def get_property(cadastral_number: CadastralNumber, uow: Uow, caller: Caller) -> PropertyOut:
    return property_out(await real_estate.property_by_number(uow, caller, cadastral_number))


@router.post(
    "/properties/{cadastral_number}/encumbrances",
    response_model=Encumbrance,
    status_code=status.HTTP_201_CREATED,
    summary="Impose a mortgage or an arrest (agencies)",
)
async def impose(
    cadastral_number: CadastralNumber, body: EncumbranceCreate, uow: Uow, caller: Caller
) -> Encumbrance:
    enc = await real_estate.impose_encumbrance(
        uow,
        caller,
        cadastral_number,
        real_estate.NewEncumbrance(
            kind=body.kind, imposed_by=body.imposed_by, basis=body.basis, lifts_at=body.lifts_at
        ),
    )
    return encumbrance_out(enc)


@router.post(
    "/encumbrances/{encumbrance_id}/release",
    response_model=Encumbrance,
    summary="Release an encumbrance (agencies)",
)
async def release(
    encumbrance_id: Annotated[str, Path(max_length=36)],
    uow: Uow,
    caller: Caller,
    body: EncumbranceRelease | None = None,
) -> Encumbrance:
    enc = await real_estate.release_encumbrance(
        uow, caller, encumbrance_id, body.reason if body else None
    )
    return encumbrance_out(enc)
