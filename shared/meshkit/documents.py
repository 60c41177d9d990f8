"""Signed documents: JWS (compact) carrying the signer's certificate chain in ``x5c``.

Registry, licensing and notary issue certificates, licenses and acts this way; anyone can
verify one offline against the national CA's root, plus a revocation check online.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from meshkit.auth.keys import PrivateKey

#: answers "was this certificate revoked, and when?" (None = not revoked)
RevocationCheck = Callable[[x509.Certificate], Awaitable[datetime | None]]


def _alg_for(key: PrivateKey) -> str:
    return "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "ES256"


def cert_to_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def cert_from_b64(data: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(data))


def load_pem_chain(pem: bytes | str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode() if isinstance(pem, str) else pem)


def subject_serial_number(cert: x509.Certificate) -> str | None:
    """The IIN/BIN/agency code a certificate names (subject serialNumber, else CN)."""
    for oid in (NameOID.SERIAL_NUMBER, NameOID.COMMON_NAME):
        attrs = cert.subject.get_attributes_for_oid(oid)
        if attrs:
            value = attrs[0].value
            return value if isinstance(value, str) else value.decode()
    return None


class DocumentSigner:
    def __init__(self, key: PrivateKey, chain: Sequence[x509.Certificate]) -> None:
        if not chain:
            raise ValueError("a document signer needs its certificate (chain)")
        self.key = key
        self.chain = list(chain)

    def sign(self, payload: dict[str, Any], *, typ: str = "JWT") -> str:
        headers = {"typ": typ, "x5c": [cert_to_b64(c) for c in self.chain]}
        return jwt.encode(payload, self.key, algorithm=_alg_for(self.key), headers=headers)


@dataclass(frozen=True)
class VerifiedDocument:
    valid: bool
    reason: str | None
    payload: dict[str, Any] | None
    signer: str | None  # subject serial number (IIN/BIN/agency) of the signing certificate
    signer_certificate_serial: str | None
    signed_at: datetime | None


def _must_be_ca(_policy: Policy, _cert: x509.Certificate, bc: x509.BasicConstraints | None) -> None:
    if bc is None or not bc.ca:
        raise ValueError("an issuing certificate is not a CA")


def _may_sign_certificates(
    _policy: Policy, _cert: x509.Certificate, ku: x509.KeyUsage | None
) -> None:
    if ku is not None and not ku.key_cert_sign:
        raise ValueError("an issuing certificate may not sign certificates (key usage)")


def _not_a_ca(_policy: Policy, _cert: x509.Certificate, bc: x509.BasicConstraints | None) -> None:
    if bc is not None and bc.ca:
        raise ValueError("a CA certificate signed a document")


def _may_sign_documents(_policy: Policy, _cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not (ku.digital_signature or ku.content_commitment):
        raise ValueError("the signing certificate may not sign (key usage)")


# RFC 5280 path validation by cryptography (signatures, issuer/subject name chaining, validity,
# path length). Not the Web PKI profile: the national CA's certificates name people and
# agencies, not hosts, so neither SAN nor EKU is required; what is checked on top is the role
# of each certificate (basic constraints and, when present, key usage).
_CA_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, _must_be_ca)
    .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _may_sign_certificates)
)
_SIGNER_POLICY = (
    ExtensionPolicy.permit_all()
    .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _not_a_ca)
    .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _may_sign_documents)
)


def verify_chain(
    chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], at: datetime
) -> str | None:
    """None when ``chain`` (leaf first; the root may be left out) leads to one of ``roots``
    and is valid at ``at``; else why not."""
    if not chain:
        return "no certificate"
    for cert in chain:  # the likeliest failure, said plainly
        if not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
            return f"certificate {cert.serial_number:x} was not valid at {at.isoformat()}"
    if not roots:
        return "the certificate was not issued by the national CA"
    verifier = (
        PolicyBuilder()
        .store(Store(list(roots)))
        .time(at)
        .extension_policies(ca_policy=_CA_POLICY, ee_policy=_SIGNER_POLICY)
        .build_client_verifier()
    )
    try:
        verifier.verify(chain[0], list(chain[1:]))
    except VerificationError as exc:
        detail = str(exc).split(" (encountered processing", 1)[0]
        return f"the certificate was not issued by the national CA ({detail})"
    return None


async def verify_document(
    token: str,
    *,
    roots: Sequence[x509.Certificate],
    revocation: RevocationCheck | None = None,
    now: datetime | None = None,
) -> VerifiedDocument:
    """Check signature, chain to a national root, validity and revocation at signing time."""

    def bad(
        reason: str, payload: dict[str, Any] | None = None, signer: str | None = None
    ) -> VerifiedDocument:
        return VerifiedDocument(False, reason, payload, signer, None, None)

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return bad("not a signed document (malformed JWS)")
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c:
        return bad("the document carries no certificate (x5c)")
    try:
        chain = [cert_from_b64(c) for c in x5c]
    except (ValueError, TypeError):
        return bad("the document's certificate is unreadable")
    leaf = chain[0]
    alg = header.get("alg")
    if alg not in {"EdDSA", "ES256"}:
        return bad("unsupported signature algorithm")
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key=leaf.public_key(),  # type: ignore[arg-type]
            algorithms=[alg],
            options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        return bad("the signature does not match the content (document altered)")
    except jwt.PyJWTError as exc:
        return bad(f"invalid document: {exc}")
    signer = subject_serial_number(leaf)
    iat = payload.get("iat")
    signed_at = datetime.fromtimestamp(int(iat), UTC) if isinstance(iat, int | float) else None
    at = signed_at or now or datetime.now(UTC)
    problem = verify_chain(chain, roots, at)
    if problem:
        return bad(problem, payload, signer)
    if revocation is not None:
        revoked_at = await revocation(leaf)
        if revoked_at is not None and revoked_at <= at:
            return bad(
                f"the signing certificate was revoked at {revoked_at.isoformat()}", payload, signer
            )
    return VerifiedDocument(True, None, payload, signer, f"{leaf.serial_number:x}", signed_at)


def canonical_json(data: Any) -> bytes:
    """Stable bytes of a JSON document (sorted keys, no spaces) for digests and signatures."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
