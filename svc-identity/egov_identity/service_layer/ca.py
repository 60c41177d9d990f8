"""Use cases of the national CA: the root, issuing from a CSR, status, revocation, verification."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from egov_identity.domain.pki import (
    CaKey,
    Certificate,
    CertificateAuthority,
    RevocationReason,
    check_chain,
    key_fingerprint,
    parse_csr,
    serial_hex,
    verify_detached,
)
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from egov_identity.settings import IdentitySettings
from meshkit.auth.assertion import RoutedCall
from meshkit.clock import Clock
from meshkit.contracts.identity import (
    CertificateRequest,
    IssuedCertificate,
    SignatureVerification,
    SignatureVerifyRequest,
)
from meshkit.documents import load_pem_chain, subject_serial_number, verify_document
from meshkit.errors import NotFound, PermissionDenied, RuleViolation
from meshkit.messaging.uow import UnitOfWork

NOTARY_AGENCY = "notary"


def _load_ca_key(s: IdentitySettings) -> CaKey:
    if s.ca_key_pem:
        data = s.ca_key_pem.encode()
    elif s.ca_key_file:
        data = s.ca_key_file.read_bytes()
    elif s.dev_mode:
        path = s.data_dir / "identity-ca-key.pem"
        if not path.exists():
            generated = ec.generate_private_key(ec.SECP256R1())
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another instance made it first
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(
                        generated.private_bytes(
                            serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption(),
                        )
                    )
        data = path.read_bytes()
    else:
        raise RuntimeError(
            "no CA key configured: set IDENTITY_CA_KEY_PEM (or _FILE) or enable dev mode"
        )
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise RuntimeError("the CA key must be EC P-256 or Ed25519")
    return key


async def load_authority(
    settings: IdentitySettings, uow_factory: Callable[[], UnitOfWork], clock: Clock
) -> CertificateAuthority:
    """The root: from settings, else the one kept in the database for this key, else a new
    self-signed root (first start)."""
    key = _load_ca_key(settings)
    if settings.ca_cert_pem:
        return CertificateAuthority(
            key, x509.load_pem_x509_certificate(settings.ca_cert_pem.encode())
        )
    fingerprint = key_fingerprint(key)
    async with uow_factory() as uow:
        assert isinstance(uow, IdentityUnitOfWork)
        pem = await uow.certificates.root_pem(fingerprint)
        if pem is None:
            root = CertificateAuthority.create_root(key, settings.ca_name, clock.now())
            await uow.certificates.add_root(
                fingerprint, root.public_bytes(serialization.Encoding.PEM).decode(), clock.now()
            )
            await uow.commit()
    async with uow_factory() as uow:
        assert isinstance(uow, IdentityUnitOfWork)
        pem = await uow.certificates.root_pem(fingerprint)
    assert pem is not None
    return CertificateAuthority(key, x509.load_pem_x509_certificate(pem.encode()))


async def issue_certificate(
    uow: IdentityUnitOfWork,
    ca: CertificateAuthority,
    settings: IdentitySettings,
    call: RoutedCall,
    request: CertificateRequest,
    now: datetime,
) -> IssuedCertificate:
    csr = parse_csr(request.csr_pem)
    async with uow:
        if call.is_citizen:
            if not call.user:
                raise PermissionDenied("a citizen call must name the citizen (X-Mesh-User)")
            if request.holder_iin and request.holder_iin != call.user:
                raise PermissionDenied("a citizen can only certify their own key")
            person = await uow.persons.get(call.user)
            if person is None or person.is_deceased:
                raise NotFound(f"no living person with IIN {call.user}")
            holder, kind, title = person.iin, "citizen", None
            name = f"{person.surname} {person.given_name}".upper()
            days = settings.citizen_certificate_days
        elif request.holder_iin:
            if call.client != NOTARY_AGENCY:
                raise PermissionDenied("only the notary agency certifies keys of its notaries")
            person = await uow.persons.get(request.holder_iin)
            if person is None or person.is_deceased:
                raise NotFound(f"no living person with IIN {request.holder_iin}")
            holder, kind, title = person.iin, "notary", "notary"
            name = f"{person.surname} {person.given_name}".upper()
            days = settings.citizen_certificate_days
        else:
            holder, kind, title, name = call.client, "agency", None, call.client
            days = settings.agency_certificate_days
        cert = ca.issue(
            csr,
            holder=holder,
            holder_kind=kind,  # type: ignore[arg-type]
            usage=request.usage,
            common_name=name,
            days=days,
            now=now,
            title=title,
        )
        await uow.certificates.add(cert)
        await uow.commit()
    return IssuedCertificate(
        serial=cert.serial,
        certificate_pem=cert.certificate_pem,
        chain_pem=cert.certificate_pem + ca.root_pem,
        subject=cert.subject,
        not_before=cert.not_before,
        not_after=cert.not_after,
    )


async def get_certificate(uow: IdentityUnitOfWork, serial: str) -> Certificate:
    async with uow:
        cert = await uow.certificates.get(normalize_serial(serial))
    if cert is None:
        raise NotFound(f"the national CA issued no certificate {serial}")
    return cert


def normalize_serial(serial: str) -> str:
    try:
        return serial_hex(int(serial, 16))
    except ValueError:
        raise RuleViolation(
            "a certificate serial is hexadecimal", errors={"serial": "not hex"}
        ) from None


async def revoke_certificate(
    uow: IdentityUnitOfWork,
    call: RoutedCall,
    serial: str,
    reason: RevocationReason,
    compromised_at: datetime | None,
    now: datetime,
) -> Certificate:
    async with uow:
        cert = await uow.certificates.get(normalize_serial(serial))
        if cert is None:
            raise NotFound(f"the national CA issued no certificate {serial}")
        own = cert.holder == (call.user if call.is_citizen else call.client)
        notary_of_notary = cert.holder_kind == "notary" and call.client == NOTARY_AGENCY
        if not (own or notary_of_notary):
            raise PermissionDenied("only the holder of a certificate may revoke it")
        if cert.revoke(reason, now, compromised_at=compromised_at):
            await uow.certificates.save(cert)
            uow.publish(cert.events, subject=cert.holder)
        await uow.commit()
    return cert


async def revoke_all_of(
    uow: IdentityUnitOfWork, holder: str, reason: RevocationReason, now: datetime
) -> int:
    """Inside an open unit of work: revoke every good certificate of a holder."""
    count = 0
    for cert in await uow.certificates.of_holder(holder):
        if cert.revoke(reason, now):
            await uow.certificates.save(cert)
            uow.publish(cert.events, subject=holder)
            count += 1
    return count


# -- verification -------------------------------------------------------------------------------
async def verify_signature(
    uow: IdentityUnitOfWork,
    ca: CertificateAuthority,
    request: SignatureVerifyRequest,
    now: datetime,
) -> SignatureVerification:
    """Who signed, when, and whether the certificate was valid and not revoked at that time."""
    if request.jws:
        return await _verify_jws(uow, ca, request.jws, now)
    if request.digest and request.signature and request.certificate_pem:
        return await _verify_detached(uow, ca, request, now)
    raise RuleViolation(
        "give either jws, or digest + signature + certificate_pem",
        errors={"jws": "or digest, signature and certificate_pem"},
    )


async def _verify_jws(
    uow: IdentityUnitOfWork, ca: CertificateAuthority, token: str, now: datetime
) -> SignatureVerification:
    statuses: dict[str, Certificate | None] = {}

    async def revocation(cert: x509.Certificate) -> datetime | None:
        found = await _lookup(uow, cert)
        statuses["leaf"] = found
        if found is None:
            # not ours although it chains to our root: treat as never valid
            return datetime.min.replace(tzinfo=now.tzinfo)
        return found.revoked_at

    doc = await verify_document(token, roots=[ca.certificate], revocation=revocation, now=now)
    leaf = statuses.get("leaf")
    reason = doc.reason
    if leaf is None and "leaf" in statuses:
        reason = "the certificate is unknown to the national CA"
    return SignatureVerification(
        valid=doc.valid,
        reason=reason,
        signer=doc.signer,
        signer_name=_name_of(leaf),
        signed_at=doc.signed_at,
        certificate_serial=leaf.serial if leaf else doc.signer_certificate_serial,
        certificate_status=(leaf.status if leaf else ("unknown" if "leaf" in statuses else None)),
        revoked_at=leaf.revoked_at if leaf else None,
        chain_valid="leaf" in statuses,
        payload=doc.payload,
    )


async def _verify_detached(
    uow: IdentityUnitOfWork,
    ca: CertificateAuthority,
    request: SignatureVerifyRequest,
    now: datetime,
) -> SignatureVerification:
    assert request.digest and request.signature and request.certificate_pem
    try:
        chain = load_pem_chain(request.certificate_pem)
    except ValueError:
        raise RuleViolation(
            "certificate_pem is not a PEM certificate", errors={"certificate_pem": "not PEM"}
        ) from None
    try:
        signature = base64.b64decode(request.signature, validate=True)
    except (binascii.Error, ValueError):
        raise RuleViolation(
            "signature must be base64", errors={"signature": "not base64"}
        ) from None
    if not chain:
        raise RuleViolation("no certificate given", errors={"certificate_pem": "empty"})
    leaf = chain[0]  # the root may be left out (our chains are leaf + root)
    at = request.signed_at or now
    signer = subject_serial_number(leaf)
    result = SignatureVerification(valid=False, signer=signer, signed_at=request.signed_at)
    problem = verify_detached(leaf, bytes.fromhex(request.digest), signature)
    if problem:
        result.reason = problem
        return result
    problem = check_chain(chain, ca.certificate, at)
    if problem:
        result.reason = problem
        return result
    result.chain_valid = True
    found = await _lookup(uow, leaf)
    if found is None:
        result.reason = "the certificate is unknown to the national CA"
        result.certificate_status = "unknown"
        return result
    result.certificate_serial = found.serial
    result.certificate_status = found.status
    result.revoked_at = found.revoked_at
    result.signer_name = _name_of(found)
    if found.revoked_by(at):
        assert found.revoked_at is not None
        result.reason = f"the signing certificate was revoked at {found.revoked_at.isoformat()}"
        return result
    result.valid = True
    return result


async def _lookup(uow: IdentityUnitOfWork, cert: x509.Certificate) -> Certificate | None:
    async with uow:
        found = await uow.certificates.get(serial_hex(cert.serial_number))
    if found is None:
        return None
    # the serial must name this very certificate, not another one with a forged serial
    if (
        found.certificate_pem.strip()
        != cert.public_bytes(serialization.Encoding.PEM).decode().strip()
    ):
        return None
    return found


def _name_of(cert: Certificate | None) -> str | None:
    if cert is None:
        return None
    for part in cert.subject.split(","):
        if part.startswith("CN="):
            return part[3:]
    return None
