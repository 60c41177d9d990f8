"""The registry of licensed notaries (routed: ``/x/notary/notaries``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from egov_notary.api.deps import Caller, PathParamsFirst, Settings, UoW
from egov_notary.api.schemas import NotaryCreate, NotaryOut, NotaryPage, NotaryStatusChange
from egov_notary.domain.notaries import NotaryStatus
from egov_notary.service_layer import services
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/notaries",
    tags=["notaries"],
    responses=PROBLEM_RESPONSES,
    dependencies=[PathParamsFirst],
)


@router.get("", response_model=NotaryPage, summary="Licensed notaries, by region and status")
async def list_notaries(
    uow: UoW,
    caller: Caller,
    region: Annotated[str | None, Query(max_length=100)] = None,
    status_: Annotated[NotaryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> NotaryPage:
    items, total = await services.list_notaries(
        uow, region=region, status=status_, limit=limit, offset=offset
    )
    return NotaryPage(
        items=[NotaryOut.of(n) for n in items], total=total, limit=limit, offset=offset
    )


@router.post(
    "",
    response_model=NotaryOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a licensed notary (operator or licensing agency)",
)
async def register_notary(
    body: NotaryCreate, uow: UoW, caller: Caller, settings: Settings
) -> NotaryOut:
    notary = await services.register_notary(
        uow,
        iin=body.iin,
        full_name=body.full_name.strip(),
        license_number=body.license_number,
        region=body.region.strip(),
        actor=caller,
        registrars=settings.notary_registrars,
    )
    return NotaryOut.of(notary)


@router.get("/{iin}", response_model=NotaryOut, summary="One notary")
async def get_notary(iin: IIN, uow: UoW, caller: Caller) -> NotaryOut:
    return NotaryOut.of(await services.get_notary(uow, iin))


@router.post(
    "/{iin}/status",
    response_model=NotaryOut,
    summary="Suspend, reinstate or terminate a notary's license",
)
async def change_status(
    iin: IIN, body: NotaryStatusChange, uow: UoW, caller: Caller, settings: Settings
) -> NotaryOut:
    notary = await services.change_notary_status(
        uow,
        iin,
        status=body.status,
        reason=body.reason,
        actor=caller,
        registrars=settings.notary_registrars,
    )
    return NotaryOut.of(notary)
