"""Sessions (refresh-token families), agency clients and the issuer's signing keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from egov_identity.domain.errors import (
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    RefreshTokenReused,
)

PrincipalKind = Literal["citizen", "agency", "operator"]


def token_digest(token: str) -> str:
    """Refresh tokens and client secrets are stored as SHA-256 digests only.

    Both are 256-bit random values, so a fast digest is enough (no password stretching).
    """
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class RefreshToken:
    digest: str
    family_id: str
    generation: int
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass
class RefreshTokenFamily:
    """One login session: every refresh token rotated from one login shares the family.

    A refresh token is single-use. Presenting one that was already exchanged means it was
    copied: the whole family (every token of the session) is revoked.
    """

    id: str
    subject: str
    kind: PrincipalKind
    scope: str
    amr: list[str]
    created_at: datetime
    expires_at: datetime
    generation: int = 0
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    @classmethod
    def start(
        cls,
        *,
        subject: str,
        kind: PrincipalKind,
        scope: str,
        amr: list[str],
        ttl_s: int,
        now: datetime,
    ) -> RefreshTokenFamily:
        return cls(
            id=str(uuid.uuid4()),
            subject=subject,
            kind=kind,
            scope=scope,
            amr=amr,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def mint(self, now: datetime) -> tuple[RefreshToken, str]:
        """A new refresh token of this family (the raw value goes to the client only)."""
        raw = new_refresh_token()
        self.generation += 1
        token = RefreshToken(
            digest=token_digest(raw),
            family_id=self.id,
            generation=self.generation,
            issued_at=now,
            expires_at=self.expires_at,
        )
        return token, raw

    def exchange(self, token: RefreshToken, now: datetime) -> None:
        """Mark ``token`` used so a new one can be minted; detect reuse."""
        if token.family_id != self.id:
            raise InvalidGrant("refresh token does not belong to this session")
        if self.revoked_at is not None:
            raise InvalidGrant(f"the session was revoked ({self.revoked_reason})")
        if token.used_at is not None:
            self.revoke("refresh token reuse detected", now)
            raise RefreshTokenReused(
                "this refresh token was already used: the session is revoked, log in again"
            )
        if now >= token.expires_at:
            raise InvalidGrant("the refresh token has expired")
        token.used_at = now

    def revoke(self, reason: str, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.revoked_reason = reason
        return True


@dataclass
class OAuthClient:
    """An agency information system registered for OAuth2 client credentials."""

    client_id: str
    agency_code: str
    scopes: list[str]
    secret_digest: str | None = None
    jwks: dict[str, Any] | None = None  # public keys for private_key_jwt
    kind: PrincipalKind = "agency"
    active: bool = True
    created_at: datetime | None = None

    def check_secret(self, secret: str) -> None:
        if not self.active:
            raise InvalidClient("the client is disabled")
        if self.secret_digest is None or not hmac.compare_digest(
            self.secret_digest, token_digest(secret)
        ):
            raise InvalidClient("client authentication failed")

    def grant_scope(self, requested: str | None) -> str:
        """The requested scopes if all allowed (all allowed scopes when none requested)."""
        if not requested:
            return " ".join(self.scopes)
        wanted = requested.split()
        refused = [s for s in wanted if s not in self.scopes]
        if refused:
            raise InvalidScope(
                f"scope not allowed for {self.client_id}: {' '.join(refused)}",
                errors={"scope": " ".join(refused)},
            )
        return " ".join(dict.fromkeys(wanted))


@dataclass
class IssuerKey:
    """A token-signing key of the issuer. Retired keys lose their private half and stay
    published until every token they signed has expired; a revoked key is unpublished at
    once (the tokens it signed stop verifying)."""

    kid: str
    alg: str
    public_jwk: dict[str, Any]
    private_pem: str | None
    created_at: datetime
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def current(self) -> bool:
        return self.retired_at is None and self.private_pem is not None

    def retire(self, now: datetime) -> None:
        self.retired_at = now
        self.private_pem = None

    def revoke(self, now: datetime) -> bool:
        """Stop publishing the key now; False when it already was revoked."""
        if self.revoked_at is not None:
            return False
        if self.retired_at is None:
            self.retired_at = now
        self.private_pem = None
        self.revoked_at = now
        return True

    def published(self, now: datetime, token_ttl_s: int, leeway_s: int = 60) -> bool:
        if self.revoked_at is not None:
            return False
        if self.retired_at is None:
            return True
        return now < self.retired_at + timedelta(seconds=token_ttl_s + leeway_s)
