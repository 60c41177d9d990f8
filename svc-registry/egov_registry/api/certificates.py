"""Certificates: issue (routed) and verify (public — anyone, no assertion)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from egov_registry.api.deps import Caller, Components, Uow
from egov_registry.api.schemas import VerifyRequest, certificate_out, certificate_status_out
from egov_registry.service_layer import certificates
from meshkit.contracts.registry import (
    CertificateOut,
    CertificateRequest,
    CertificateStatus,
    CertificateVerification,
)
from meshkit.problems import PROBLEM_JSON, PROBLEM_RESPONSES, Problem

#: answered when a party this operation must consult (identity, the national CA) is down
UPSTREAM_DOWN: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Problem,
        "content": {PROBLEM_JSON: {}},
        "description": "A service this operation depends on is unavailable",
    }
}

router = APIRouter(tags=["certificates"], responses=PROBLEM_RESPONSES)
public_router = APIRouter(
    prefix="/public/certificates", tags=["public verification"], responses=PROBLEM_RESPONSES
)

Number = Annotated[str, Path(max_length=60, description="e.g. RC-2026-0000042-K7M2Q9XD")]


@router.post(
    "/certificates",
    responses=UPSTREAM_DOWN,
    response_model=CertificateOut,
    status_code=status.HTTP_201_CREATED,
    summary="Issue a signed certificate (a citizen: about themselves)",
)
async def issue(
    body: CertificateRequest, uow: Uow, caller: Caller, components: Components
) -> CertificateOut:
    cert = await certificates.issue_certificate(
        uow,
        components.identity,
        components.keys.signer,
        caller,
        kind=body.kind,
        subject=body.subject,
        validity=components.certificate_validity,
        cadastral_number=body.cadastral_number,
    )
    return certificate_out(cert)


@router.get(
    "/certificates/{number}", response_model=CertificateOut, summary="An issued certificate"
)
async def get_certificate(number: Number, uow: Uow, caller: Caller) -> CertificateOut:
    return certificate_out(await certificates.certificate(uow, caller, number))


# -- public: no gateway assertion — anyone holding a number or a document may verify it --------
@public_router.get(
    "/{number}",
    responses=UPSTREAM_DOWN,
    response_model=CertificateStatus,
    summary="Verify a certificate by its number (public)",
)
async def status_by_number(number: Number, uow: Uow, components: Components) -> CertificateStatus:
    cert, verdict = await certificates.check_by_number(
        uow, components.trust, components.revocation, number
    )
    return certificate_status_out(cert, datetime.now(UTC), verdict)


@public_router.post(
    "/verify",
    responses=UPSTREAM_DOWN,
    response_model=CertificateVerification,
    summary="Verify a certificate document (JWS): valid, or invalid with the reason (public)",
)
async def verify_document(
    body: VerifyRequest, uow: Uow, components: Components
) -> CertificateVerification:
    return await certificates.verify(
        uow, components.trust, components.revocation, body.document.strip()
    )
