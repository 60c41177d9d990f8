"""HMAC-SHA256 callback signatures: ``hex(hmac(secret, timestamp + "." + body))``."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Acquirer-Timestamp"
SIGNATURE_HEADER = "X-Acquirer-Signature"
ACQUIRER_HEADER = "X-Acquirer-Id"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    # constant time: a forger learns nothing from how long the comparison took
    return hmac.compare_digest(sign(secret, timestamp, body), signature.strip().lower())


def signed_headers(secret: str, body: bytes, *, timestamp: int, acquirer: str) -> dict[str, str]:
    ts = str(timestamp)
    return {
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: sign(secret, ts, body),
        ACQUIRER_HEADER: acquirer,
        "content-type": "application/json",
    }
