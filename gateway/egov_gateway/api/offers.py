"""Proactive offers of the citizen: list, accept (the offered service runs), decline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from egov_gateway.api.dependencies import require_citizen
from egov_gateway.singlewindow.offers.domain.model import Offer
from egov_gateway.singlewindow.offers.service_layer import service
from meshkit.auth.principal import Principal
from meshkit.bounds import Offset
from meshkit.problems import PROBLEM_RESPONSES
from meshkit.service import runtime_of

router = APIRouter(prefix="/api/v1", tags=["offers"], responses=PROBLEM_RESPONSES)

OfferId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]{1,36}$")]


class OfferOut(BaseModel):
    id: str
    service_code: str
    title: dict[str, str] = Field(description="what is offered, in kk/ru/en")
    status: str = Field(description="offered | accepted | declined | expired | withdrawn")
    payload: dict[str, Any] = Field(description="the data the state already holds for it")
    citizen_supplies: list[str] = Field(description="fields the citizen adds on accept")
    trigger_event_type: str
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    application_id: str | None

    @classmethod
    def of(cls, o: Offer) -> OfferOut:
        return cls(
            id=o.id,
            service_code=o.service_code,
            title=o.title,
            status=o.status,
            payload=o.payload,
            citizen_supplies=o.citizen_supplies,
            trigger_event_type=o.trigger_event_type,
            created_at=o.created_at,
            expires_at=o.expires_at,
            decided_at=o.decided_at,
            application_id=o.application_id,
        )


class OfferPage(BaseModel):
    items: list[OfferOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] = Field(
        default_factory=dict,
        description="only the fields listed in citizen_supplies; the state's data is not editable",
    )


class AcceptOut(BaseModel):
    offer: OfferOut
    application: Any = Field(description="the application the offer started")


class RuleOut(BaseModel):
    code: str
    event_type: str = Field(description="the life event that triggers the offer")
    service_code: str
    title: dict[str, str]
    recipients: list[str] = Field(description="$.event.<field> or $.applicant")
    payload: dict[str, Any] = Field(description="how the service input is filled")
    valid_days: int
    unless_applied: list[str]
    exclusive: bool = Field(description="the offers of one event are alternatives")
    citizen_supplies: list[str]


@router.get(
    "/proactive-rules",
    response_model=list[RuleOut],
    summary="The proactive rules of the register: which event offers what to whom (public)",
)
async def proactive_rules() -> list[RuleOut]:
    return [
        RuleOut(
            code=r.code,
            event_type=r.event_type,
            service_code=r.service_code,
            title={"kk": r.title.kk, "ru": r.title.ru, "en": r.title.en},
            recipients=list(r.recipients),
            payload=dict(r.payload),
            valid_days=r.valid_days,
            unless_applied=list(r.unless_applied),
            exclusive=r.exclusive,
            citizen_supplies=list(r.citizen_supplies),
        )
        for r in service.all_rules()
    ]


@router.get("/me/offers", response_model=OfferPage, summary="Services the state offers me")
async def my_offers(
    request: Request,
    citizen: Annotated[Principal, Depends(require_citizen)],
    status: Annotated[str, Query(pattern="^(open|all)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> OfferPage:
    items, total = await service.my_offers(
        runtime_of(request).uow_factory(),
        citizen.subject,
        only_open=status == "open",
        limit=limit,
        offset=offset,
    )
    return OfferPage(
        items=[OfferOut.of(o) for o in items],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if offset + limit < total else None,
    )


@router.post(
    "/me/offers/{offer_id}/accept",
    response_model=AcceptOut,
    status_code=201,
    summary="Accept: the offered service runs with the data the state holds",
)
async def accept(
    request: Request,
    offer_id: OfferId,
    citizen: Annotated[Principal, Depends(require_citizen)],
    body: Annotated[AcceptIn | None, Body()] = None,
) -> AcceptOut:
    offer, application = await service.accept_offer(
        runtime_of(request), citizen.subject, offer_id, (body or AcceptIn()).payload
    )
    if isinstance(application, BaseModel):
        application = application.model_dump(mode="json")
    return AcceptOut(offer=OfferOut.of(offer), application=application)


@router.post("/me/offers/{offer_id}/decline", response_model=OfferOut, summary="Decline")
async def decline(
    request: Request, offer_id: OfferId, citizen: Annotated[Principal, Depends(require_citizen)]
) -> OfferOut:
    offer = await service.decline_offer(
        runtime_of(request).uow_factory(), citizen.subject, offer_id
    )
    return OfferOut.of(offer)
