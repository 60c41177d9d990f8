"""License applications (routed through the gateway: ``/x/licensing/applications``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status

from egov_licensing.api.auth import (
    applicant_actor,
    may_read_application,
    officer_actor,
    require_officer,
)
from egov_licensing.api.deps import context, uows
from egov_licensing.api.schemas import ApplicationCreate, ApplicationOut, DecisionIn
from egov_licensing.service_layer import services
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.services import UowFactory
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.errors import NotFound, PermissionDenied
from meshkit.ids import BINInfo, IINOrBIN, parse_identifier
from meshkit.problems import PROBLEM_JSON, PROBLEM_RESPONSES, Problem

UNAVAILABLE = {
    "model": Problem,
    "content": {PROBLEM_JSON: {}},
    "description": "registry or identity cannot be reached to verify the applicant",
}
router = APIRouter(tags=["applications"], responses={**PROBLEM_RESPONSES, 503: UNAVAILABLE})

Call = Annotated[RoutedCall, Depends(routed_call)]
Ctx = Annotated[LicensingContext, Depends(context)]
Uows = Annotated[UowFactory, Depends(uows)]


@router.post(
    "/applications",
    response_model=ApplicationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Apply for a license (a citizen for themselves or the BIN they direct; an agency on behalf)",
)
async def apply(
    body: ApplicationCreate,
    call: Call,
    ctx: Ctx,
    make: Uows,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ApplicationOut:
    actor = applicant_actor(call, body.applicant_iin)
    app = await services.apply(
        ctx,
        make,
        services.Apply(
            license_type=body.license_type,
            applicant_iin=body.applicant_iin,
            applicant_bin=body.applicant_bin,
            details=body.details,
            actor=actor,
            idempotency_key=idempotency_key,
        ),
    )
    return ApplicationOut.of(app, ctx.clock.now())


@router.get(
    "/applications/{application_id}",
    response_model=ApplicationOut,
    summary="An application with its checks, SLA and full timeline (applicant or officer)",
)
async def get_application(application_id: str, call: Call, ctx: Ctx, make: Uows) -> ApplicationOut:
    app = await services.get_application(make(), application_id)
    if not may_read_application(call, ctx.settings, app.applicant_iin):
        # do not reveal that someone else's application exists
        raise NotFound(f"there is no license application {application_id}")
    return ApplicationOut.of(app, ctx.clock.now())


@router.get(
    "/applications",
    response_model=list[ApplicationOut],
    summary="Applications of an applicant (IIN) or a holder (BIN); a citizen sees their own",
)
async def list_applications(
    call: Call,
    ctx: Ctx,
    make: Uows,
    applicant: Annotated[
        IINOrBIN | None, Query(description="IIN of the applicant or BIN of the holder")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApplicationOut]:
    officer = officer_actor(call, ctx.settings) is not None
    applicant_iin: str | None = None
    holder: str | None = None
    if applicant is not None:
        if isinstance(parse_identifier(applicant), BINInfo):
            holder = applicant
        else:
            applicant_iin = applicant
    if call.is_citizen and not officer:
        if applicant_iin is not None and applicant_iin != call.user:
            raise PermissionDenied("a citizen may list only their own applications")
        applicant_iin = call.user  # and, for a BIN, only those they filed themselves
    elif not officer:
        if call.user is None:
            raise PermissionDenied(
                "an agency lists applications on behalf of a person (X-Mesh-User)"
            )
        applicant_iin = call.user
    if applicant_iin is None and holder is None:
        raise PermissionDenied("give ?applicant=<IIN or BIN>")
    apps = await services.list_applications(
        make(), holder=holder, applicant_iin=applicant_iin, limit=limit
    )
    now = ctx.clock.now()
    return [ApplicationOut.of(a, now) for a in apps]


@router.post(
    "/applications/{application_id}/decision",
    response_model=ApplicationOut,
    summary="An officer approves (the license is issued) or rejects, always with a reason",
)
async def decide(
    application_id: str, body: DecisionIn, call: Call, ctx: Ctx, make: Uows
) -> ApplicationOut:
    officer = require_officer(call, ctx.settings)
    app = await services.decide(
        ctx,
        make,
        application_id,
        approve=body.decision == "approve",
        reason=body.reason,
        officer=officer,
    )
    return ApplicationOut.of(app, ctx.clock.now())
