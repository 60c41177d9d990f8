"""The national CA: issuing and revoking are routed; root, status and verification are public."""

from __future__ import annotations

from fastapi import APIRouter, Response

from egov_identity.api.deps import Call, IdentityDep
from egov_identity.api.schemas import RevokeIn
from egov_identity.domain.pki import Certificate
from egov_identity.service_layer import ca as uc
from meshkit.contracts.identity import (
    CertificateRequest,
    CertificateStatusOut,
    IssuedCertificate,
    SignatureVerification,
    SignatureVerifyRequest,
)
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/ca", tags=["national CA"], responses=PROBLEM_RESPONSES)


def status_out(cert: Certificate) -> CertificateStatusOut:
    return CertificateStatusOut(
        serial=cert.serial,
        subject=cert.subject,
        status=cert.status,
        revoked_at=cert.revoked_at,
        reason=cert.revocation_reason,
        not_before=cert.not_before,
        not_after=cert.not_after,
        usage=cert.usage,
    )


@router.post(
    "/certificates",
    status_code=201,
    response_model=IssuedCertificate,
    summary="Certify a key from a CSR (routed; subject decided by the CA)",
)
async def issue(body: CertificateRequest, call: Call, idy: IdentityDep) -> IssuedCertificate:
    return await uc.issue_certificate(
        idy.new_uow(), idy.ca, idy.settings, call, body, idy.clock.now()
    )


@router.post(
    "/certificates/{serial}/revoke",
    response_model=CertificateStatusOut,
    summary="Revoke a certificate (its holder; routed)",
)
async def revoke(serial: str, body: RevokeIn, call: Call, idy: IdentityDep) -> CertificateStatusOut:
    cert = await uc.revoke_certificate(
        idy.new_uow(), call, serial, body.reason, body.compromised_at, idy.clock.now()
    )
    return status_out(cert)


# -- public ------------------------------------------------------------------------------------
@router.get(
    "/root.pem",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}},
    summary="The national root certificate (public)",
)
async def root_pem(idy: IdentityDep) -> Response:
    return Response(idy.ca.root_pem, media_type="application/x-pem-file")


@router.get(
    "/certificates/{serial}",
    response_model=CertificateStatusOut,
    summary="Certificate status: good or revoked, with reason and time (public)",
)
async def certificate_status(serial: str, idy: IdentityDep) -> CertificateStatusOut:
    return status_out(await uc.get_certificate(idy.new_uow(), serial))


@router.post(
    "/verify",
    response_model=SignatureVerification,
    summary="Who signed, when, and was the certificate valid then (public)",
)
async def verify(body: SignatureVerifyRequest, idy: IdentityDep) -> SignatureVerification:
    return await uc.verify_signature(idy.new_uow(), idy.ca, body, idy.clock.now())
