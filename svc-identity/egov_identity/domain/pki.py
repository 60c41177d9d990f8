"""The national certificate authority: a root that certifies citizens', notaries' and agencies'
keys from a CSR, certificate status and revocation, and signature verification rules."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from meshkit.contracts.identity import CertificateRevoked
from meshkit.documents import verify_chain
from meshkit.errors import RuleViolation
from meshkit.events import EventData

Usage = Literal["signing", "authentication"]
HolderKind = Literal["citizen", "agency", "notary"]
RevocationReason = Literal[
    "unspecified",
    "key_compromise",
    "affiliation_changed",
    "superseded",
    "cessation_of_operation",
    "holder_deceased",
]
CaKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def serial_hex(serial: int) -> str:
    """Certificate serials are named in lower-case hex without leading zeros everywhere."""
    return f"{serial:x}"


def key_fingerprint(key: CaKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _sign_hash(key: CaKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _check_public_key(public_key: object) -> None:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ("secp256r1", "secp384r1"):
            raise RuleViolation("EC keys must be on P-256 or P-384", errors={"csr_pem": "curve"})
    elif isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise RuleViolation("RSA keys must have 2048 bits or more", errors={"csr_pem": "size"})
    elif not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise RuleViolation(
            "the key must be EC P-256/P-384, Ed25519 or RSA", errors={"csr_pem": "key type"}
        )


def parse_csr(csr_pem: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError:
        raise RuleViolation(
            "csr_pem is not a PEM certificate signing request", errors={"csr_pem": "not a CSR"}
        ) from None
    if not csr.is_signature_valid:
        raise RuleViolation(
            "the CSR is not signed by the key it certifies (proof of possession failed)",
            errors={"csr_pem": "bad signature"},
        )
    _check_public_key(csr.public_key())
    return csr


@dataclass
class Certificate:
    serial: str
    holder: str  # IIN or agency code (the subject serialNumber)
    holder_kind: HolderKind
    usage: Usage
    subject: str
    not_before: datetime
    not_after: datetime
    certificate_pem: str
    issued_at: datetime
    status: Literal["good", "revoked"] = "good"
    revoked_at: datetime | None = None
    revocation_reason: RevocationReason | None = None
    events: list[EventData] = field(default_factory=list, repr=False, compare=False)

    def revoke(
        self, reason: RevocationReason, now: datetime, *, compromised_at: datetime | None = None
    ) -> bool:
        """Revoke (idempotent). A key compromise may date the revocation back to when the key
        was compromised, so signatures made with the stolen key since then fail too."""
        if self.status == "revoked":
            return False
        effective = now
        if compromised_at is not None:
            if compromised_at > now:
                raise RuleViolation(
                    "compromised_at is in the future", errors={"compromised_at": "in the future"}
                )
            effective = max(compromised_at, self.not_before)
        self.status = "revoked"
        self.revoked_at = effective
        self.revocation_reason = reason
        self.events.append(
            CertificateRevoked(
                serial=self.serial,
                holder=self.holder,
                usage=self.usage,
                reason=reason,
                revoked_at=effective,
            )
        )
        return True

    def revoked_by(self, moment: datetime) -> bool:
        return self.revoked_at is not None and self.revoked_at <= moment


class CertificateAuthority:
    """The root key and certificate; issues end-entity certificates from CSRs."""

    def __init__(self, key: CaKey, certificate: x509.Certificate) -> None:
        if certificate.public_key() != key.public_key():
            raise ValueError("the CA certificate is not the certificate of the CA key")
        self.key = key
        self.certificate = certificate

    @classmethod
    def create_root(cls, key: CaKey, name: str, now: datetime, years: int = 20) -> x509.Certificate:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "egov-mesh"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(key, _sign_hash(key))
        )

    @property
    def root_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def issue(
        self,
        csr: x509.CertificateSigningRequest,
        *,
        holder: str,
        holder_kind: HolderKind,
        usage: Usage,
        common_name: str,
        days: int,
        now: datetime,
        title: str | None = None,
    ) -> Certificate:
        """Certify the CSR's key. The subject is ours to decide (never the CSR's): the
        holder's IIN or agency code in serialNumber, the name we know in CN."""
        attrs = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, holder),
        ]
        if title:
            attrs.append(x509.NameAttribute(NameOID.TITLE, title))
        not_before = now - timedelta(minutes=1)
        not_after = min(now + timedelta(days=days), self.certificate.not_valid_after_utc)
        public_key = csr.public_key()
        signing = usage == "signing"
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=signing,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.EMAIL_PROTECTION]
                    if signing
                    else [ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        cert = builder.sign(self.key, _sign_hash(self.key))
        return Certificate(
            serial=serial_hex(cert.serial_number),
            holder=holder,
            holder_kind=holder_kind,
            usage=usage,
            subject=cert.subject.rfc4514_string(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
            issued_at=now,
        )


# -- verification ---------------------------------------------------------------------------
def check_chain(
    chain: Sequence[x509.Certificate], root: x509.Certificate, at: datetime
) -> str | None:
    """None when the chain (leaf first; the root may be left out) leads to our root at ``at``."""
    return verify_chain(list(chain), [root], at)


def verify_detached(certificate: x509.Certificate, digest: bytes, signature: bytes) -> str | None:
    """Check a signature over a SHA-256 document digest; None when it holds.

    ECDSA and RSA sign the digest as a prehashed SHA-256 value (ECDSA signatures DER or raw
    r||s); Ed25519 signs the 32 digest bytes as its message.
    """
    if len(digest) != 32:
        return "the digest must be a SHA-256 value (32 bytes)"
    key = certificate.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            if len(signature) == 2 * size:  # raw r||s (JOSE style)
                r = int.from_bytes(signature[:size], "big")
                s = int.from_bytes(signature[size:], "big")
                signature = utils.encode_dss_signature(r, s)
            key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, digest)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        else:
            return "unsupported key type"
    except InvalidSignature:
        return "the signature does not match the digest (document altered or wrong key)"
    except ValueError:
        return "the signature is malformed"
    return None
