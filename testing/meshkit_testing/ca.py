"""A throwaway certificate authority for tests of signed documents."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from meshkit.documents import DocumentSigner


class TestCA:
    __test__ = False  # not a pytest class

    def __init__(self, name: str = "Test National CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self, serial_number: str, *, days: int = 365, not_before: datetime | None = None
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        start = not_before or datetime.now(UTC) - timedelta(minutes=5)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, serial_number),
                        x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number),
                    ]
                )
            )
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return key, cert

    def signer(self, serial_number: str) -> DocumentSigner:
        key, cert = self.issue(serial_number)
        return DocumentSigner(key, [cert])


def make_csr(
    cn: str = "Somebody Else", serial: str = "111111111111"
) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A fresh P-256 key and a PEM CSR for it (the national CA decides the real subject)."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, cn),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, serial),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def sign_content(
    signer: DocumentSigner, content: dict[str, Any], *, whole_content: bool = False
) -> str:
    """A signature over a document's canonical content as e.g. svc-notary's
    ``GET /acts/{id}/content`` answers it (``{content, sha256, ...}``): a compact JWS whose
    payload is the content itself or ``{"sha256": <digest>}``, with ``iat``."""
    payload: dict[str, Any] = (
        dict(content["content"]) if whole_content else {"sha256": content["sha256"]}
    )
    payload["iat"] = int(time.time())
    return signer.sign(payload)
