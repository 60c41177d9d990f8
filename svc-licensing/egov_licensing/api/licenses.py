"""Licenses: routed reads and officer actions, and the public verification endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from egov_licensing.api.auth import require_officer
from egov_licensing.api.deps import context, uows
from egov_licensing.api.schemas import LicenseOut, PublicLicenseOut, ReasonIn, VerifyIn, VerifyOut
from egov_licensing.domain.model import License
from egov_licensing.service_layer import services
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.services import UowFactory
from meshkit import calendar
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.problems import PROBLEM_JSON, PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["licenses"], responses=PROBLEM_RESPONSES)
public = APIRouter(prefix="/public", tags=["public verification"], responses=PROBLEM_RESPONSES)

Call = Annotated[RoutedCall, Depends(routed_call)]
Ctx = Annotated[LicensingContext, Depends(context)]
Uows = Annotated[UowFactory, Depends(uows)]
CA_UNAVAILABLE = {
    "model": Problem,
    "content": {PROBLEM_JSON: {}},
    "description": "the national CA (root or revocation status) cannot be reached",
}
NUMBER = r"^[A-Z0-9\-]{4,40}$"


async def _full(ctx: LicensingContext, make: UowFactory, lic: License) -> LicenseOut:
    lt = await services.license_type(make(), lic.license_type)
    return LicenseOut.full(lic, lt, calendar.local_date(ctx.clock.now()))


@router.get(
    "/licenses/{number}",
    response_model=LicenseOut,
    summary="A license with its document and history",
)
async def get_license(number: str, call: Call, ctx: Ctx, make: Uows) -> LicenseOut:
    return await _full(ctx, make, await services.get_license(make(), number))


async def _act(
    action: str,
    number: str,
    body: ReasonIn,
    call: RoutedCall,
    ctx: LicensingContext,
    make: UowFactory,
) -> LicenseOut:
    officer = require_officer(call, ctx.settings)
    lic = await services.change_license(
        ctx, make, number, action, reason=body.reason, actor=officer
    )
    return await _full(ctx, make, lic)


@router.post(
    "/licenses/{number}/suspend",
    response_model=LicenseOut,
    summary="Suspend (officer, with a reason)",
)
async def suspend(number: str, body: ReasonIn, call: Call, ctx: Ctx, make: Uows) -> LicenseOut:
    return await _act("suspend", number, body, call, ctx, make)


@router.post(
    "/licenses/{number}/reinstate",
    response_model=LicenseOut,
    summary="Lift a suspension (officer, with a reason)",
)
async def reinstate(number: str, body: ReasonIn, call: Call, ctx: Ctx, make: Uows) -> LicenseOut:
    return await _act("reinstate", number, body, call, ctx, make)


@router.post(
    "/licenses/{number}/revoke",
    response_model=LicenseOut,
    summary="Revoke for good (officer, with a reason)",
)
async def revoke(number: str, body: ReasonIn, call: Call, ctx: Ctx, make: Uows) -> LicenseOut:
    return await _act("revoke", number, body, call, ctx, make)


@public.get(
    "/licenses/{number}",
    response_model=PublicLicenseOut,
    summary="Verify a license by number: holder, type, status, validity (public, no login)",
)
async def public_license(number: str, ctx: Ctx, make: Uows) -> PublicLicenseOut:
    lic = await services.get_license(make(), number)
    lt = await services.license_type(make(), lic.license_type)
    return PublicLicenseOut.of(lic, lt, calendar.local_date(ctx.clock.now()))


@public.post(
    "/licenses/verify",
    response_model=VerifyOut,
    responses={503: CA_UNAVAILABLE},
    summary="Verify a license document (JWS): signature, national CA chain, register, status (public)",
)
async def verify_license_document(body: VerifyIn, ctx: Ctx, make: Uows) -> VerifyOut:
    result = await services.verify(ctx, make, body.document)
    today = calendar.local_date(ctx.clock.now())
    lic_out = None
    if result.license is not None:
        lt = await services.license_type(make(), result.license.license_type)
        lic_out = PublicLicenseOut.of(result.license, lt, today)
    return VerifyOut(
        valid=result.valid,
        authentic=result.authentic,
        reason=result.reason,
        signed_at=result.signed_at,
        signer=result.signer,
        license=lic_out,
    )
