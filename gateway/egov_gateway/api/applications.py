"""Citizen endpoints of applications (DESIGN §4.3): apply, track, list mine, rate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from egov_gateway.api.dependencies import _principal, require_citizen
from egov_gateway.singlewindow.applications.service_layer import service
from egov_gateway.singlewindow.applications.service_layer.views import (
    ApplicationList,
    ApplicationView,
)
from meshkit.auth.principal import Principal
from meshkit.bounds import Offset
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["applications"], responses=PROBLEM_RESPONSES)

Citizen = Annotated[Principal, Depends(require_citizen)]
Anyone = Annotated[Principal, Depends(_principal)]


class ApplicationIn(BaseModel):
    service_code: str = Field(min_length=2, max_length=50, examples=["cx-birth-of-child"])
    payload: dict[str, Any] = Field(
        default_factory=dict,
        description="the form, valid against the service's input schema; never the "
        "applicant's own data (the gateway fetches it from identity)",
    )


class RatingIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


def _ctx(request: Request) -> service.Applications:
    return service.applications_of(request.app.state.runtime)


@router.post(
    "/api/v1/applications",
    status_code=201,
    response_model=ApplicationView,
    summary="Apply for a service of the register (simple or composite)",
)
async def submit(body: ApplicationIn, citizen: Citizen, request: Request) -> ApplicationView:
    """An agency's refusal of the matter that comes within ``answer_within_s`` (e.g. 403
    "you can only … for yourself or your children") is the answer to this request."""
    ctx = _ctx(request)
    settings = request.app.state.runtime.settings.applications
    return await service.submit(
        ctx,
        citizen.subject,
        body.service_code,
        body.payload,
        answer_within_s=settings.answer_within_s,
    )


@router.get(
    "/api/v1/applications/{application_id}",
    response_model=ApplicationView,
    summary="Status and timeline of an application (its applicant or an operator)",
)
async def get_one(application_id: str, principal: Anyone, request: Request) -> ApplicationView:
    return await service.get_application(_ctx(request), application_id[:36], principal)


@router.get(
    "/api/v1/me/applications",
    response_model=ApplicationList,
    summary="My applications, newest first",
)
async def mine(
    citizen: Citizen,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> ApplicationList:
    return await service.list_applications(
        _ctx(request), citizen.subject, limit=limit, offset=offset
    )


@router.post(
    "/api/v1/applications/{application_id}/rating",
    response_model=ApplicationView,
    summary="Rate a completed application (1–5 and a comment), once",
)
async def rate(
    application_id: str, body: RatingIn, citizen: Citizen, request: Request
) -> ApplicationView:
    return await service.rate_application(
        _ctx(request), application_id[:36], citizen.subject, body.rating, body.comment
    )
