"""Signing keys (EdDSA/Ed25519 or ES256) and key rings that publish a JWKS.

Keys come from settings (PEM in an environment variable or a file path). In dev mode a key
is generated on first start and kept in the data directory (never in the repository).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

Alg = Literal["EdDSA", "ES256"]
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.S)


#: RFC 7638: the members of a thumbprint, per key type
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}


def _public_jwk(pub: Any, *, kid: str) -> dict[str, Any]:
    if isinstance(pub, ed25519.Ed25519PublicKey):
        jwk: dict[str, Any] = dict(OKPAlgorithm.to_jwk(pub, as_dict=True))
        alg = "EdDSA"
    elif isinstance(pub, ec.EllipticCurvePublicKey) and isinstance(pub.curve, ec.SECP256R1):
        jwk = dict(ECAlgorithm.to_jwk(pub, as_dict=True))
        alg = "ES256"
    else:
        raise ValueError("only Ed25519 and EC P-256 keys are supported")
    jwk.update(kid=kid, alg=alg, use="sig")
    return jwk


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint (PyJWT has none), cut to the 16 characters every published key id
    already has."""
    required = {m: jwk[m] for m in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())[:16]


def public_jwks_from_pem(text: str | bytes) -> list[dict[str, Any]]:
    """Every PEM block in ``text`` as a public JWK with its thumbprint ``kid`` — public keys,
    or private ones whose public half is all that is kept (an operator may only have the old
    private PEM at hand when rotating)."""
    data = text.decode() if isinstance(text, bytes) else text
    jwks = []
    for match in _PEM_BLOCK.finditer(data):
        pem = match.group(0).encode()
        if "PRIVATE" in match.group(1):
            pub = serialization.load_pem_private_key(pem, password=None).public_key()
        else:
            pub = serialization.load_pem_public_key(pem)
        jwk = _public_jwk(pub, kid="")
        jwk["kid"] = _thumbprint(jwk)
        jwks.append(jwk)
    if data.strip() and not jwks:
        raise ValueError("no PEM block found")
    return jwks


class SigningKey:
    def __init__(self, private_key: PrivateKey, *, kid: str | None = None) -> None:
        self.private_key = private_key
        self.alg: Alg = "EdDSA" if isinstance(private_key, ed25519.Ed25519PrivateKey) else "ES256"
        self.kid = kid or self.thumbprint()
        self._eddsa_header: tuple[str, str] | None = None  # (kid, encoded header)

    @classmethod
    def generate(cls, alg: Alg = "EdDSA") -> SigningKey:
        if alg == "EdDSA":
            return cls(ed25519.Ed25519PrivateKey.generate())
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes | str, *, kid: str | None = None) -> SigningKey:
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("only Ed25519 and EC P-256 keys are supported")
        return cls(key, kid=kid)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, Any]:
        return _public_jwk(self.private_key.public_key(), kid=getattr(self, "kid", None) or "")

    def thumbprint(self) -> str:
        """RFC 7638 thumbprint: a stable key id derived from the public key."""
        return _thumbprint(self.public_jwk())

    def sign(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        key = self.private_key
        if headers or not isinstance(key, ed25519.Ed25519PrivateKey):
            hdrs = {"kid": self.kid, **(headers or {})}
            return jwt.encode(claims, key, algorithm=self.alg, headers=hdrs)
        # EdDSA compact JWS by hand: the gateway signs one per routed call, and PyJWT's
        # generic path costs twice the signature itself (same bytes a verifier expects)
        if self._eddsa_header is None or self._eddsa_header[0] != self.kid:
            header = {"alg": "EdDSA", "kid": self.kid, "typ": "JWT"}
            self._eddsa_header = (
                self.kid,
                _b64(json.dumps(header, separators=(",", ":")).encode()),
            )
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{self._eddsa_header[1]}.{payload}"
        return f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"


class KeyRing:
    """The current signing key plus retired public keys still published for verification."""

    def __init__(self, current: SigningKey, retired: list[dict[str, Any]] | None = None) -> None:
        self.current = current
        self.retired = list(retired or [])

    def rotate(self, new: SigningKey | None = None) -> SigningKey:
        """Sign with a new key from now on; keep publishing the old one until tokens expire."""
        self.retired.insert(0, self.current.public_jwk())
        self.current = new or SigningKey.generate(self.current.alg)
        return self.current

    def retire_older_than(self, keep: int) -> None:
        self.retired = self.retired[:keep]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.current.public_jwk(), *self.retired]}

    @classmethod
    def load(
        cls,
        *,
        pem: str | None,
        pem_file: Path | None,
        dev_mode: bool,
        dev_path: Path,
        alg: Alg = "EdDSA",
        what: str = "signing key",
    ) -> KeyRing:
        if pem:
            return cls(SigningKey.from_pem(pem))
        if pem_file:
            return cls(SigningKey.from_pem(pem_file.read_bytes()))
        if not dev_mode:
            raise RuntimeError(
                f"no {what} configured: set it in the environment (PEM) or enable dev mode "
                "to generate one"
            )
        if dev_path.exists():
            return cls(SigningKey.from_pem(dev_path.read_bytes()))
        key = SigningKey.generate(alg)
        dev_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(dev_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.private_pem())
        return cls(key)
