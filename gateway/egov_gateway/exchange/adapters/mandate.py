"""The citizen's mandate to the single window: steps of an application run as the citizen.

A citizen who submits an application (or accepts a proactive offer) asks the state to run
that service for them. Every step the gateway then makes is the *citizen's* call, not the
gateway's: it is authenticated by a short-lived mandate token that names the applicant
(``sub``), the application and the service, and says who acts for the citizen (``act``,
RFC 8693). The routed exchange treats its bearer exactly as the citizen calling directly —
citizen-facing operations only, ``X-Mesh-Client: citizen``, ``X-Mesh-User`` = the applicant,
the agencies' citizen rules (own data, own children, consent) — and, further, only the
operations of the mandated service (a mandate for *Birth of a child* cannot read a
property). The gateway's own agency grants play no part (no confused deputy).

Only the gateway mints mandates, with its assertion key (the key whose signature every
agency already trusts for any routed call, so no new authority is created), and only the
routed exchange accepts them (audience ``egov-gateway/single-window``; the portal's
``/api/v1/*`` endpoints verify identity-issued tokens only).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt

from meshkit.auth.assertion import GATEWAY_ISSUER
from meshkit.auth.jwks import JWKSClient, TokenInvalid
from meshkit.auth.keys import SigningKey
from meshkit.auth.principal import Principal
from meshkit.ids import is_valid_iin

MANDATE_AUDIENCE = "egov-gateway/single-window"
SINGLE_WINDOW_ACTOR = "gateway"
MANDATE_TTL_S = 120


def issue_mandate(
    key: SigningKey,
    *,
    applicant_iin: str,
    application_id: str,
    service_code: str,
    ttl_s: int = MANDATE_TTL_S,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    return key.sign(
        {
            "iss": GATEWAY_ISSUER,
            "aud": MANDATE_AUDIENCE,
            "sub": applicant_iin,
            "kind": "citizen",
            "act": {"sub": SINGLE_WINDOW_ACTOR},
            "app": application_id,
            "svc": service_code,
            "iat": issued,
            "exp": issued + ttl_s,
            "jti": secrets.token_urlsafe(12),
        }
    )


def is_mandate(token: str) -> bool:
    """Whether a bearer token claims to be a single-window mandate (unverified peek)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return claims.get("iss") == GATEWAY_ISSUER


class MandateVerifier:
    """Verifies mandates against the gateway's own published keys (current and rotated)."""

    def __init__(self, jwks: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._jwks = JWKSClient(jwks, ttl_s=30.0, min_refresh_s=1.0)

    async def principal(self, token: str) -> Principal:
        claims = await self._jwks.verify(
            token,
            audience=MANDATE_AUDIENCE,
            issuer=GATEWAY_ISSUER,
            required=("exp", "iat", "sub", "app", "svc", "act"),
        )
        act = claims.get("act")
        actor = act.get("sub") if isinstance(act, dict) else None
        if claims.get("kind") != "citizen" or actor != SINGLE_WINDOW_ACTOR:
            raise TokenInvalid("a mandate is given by a citizen to the single window only")
        subject = str(claims["sub"])
        if not is_valid_iin(subject):
            raise TokenInvalid("a mandate names the citizen by IIN")
        return Principal(
            kind="citizen",
            subject=subject,
            token_id=claims.get("jti"),
            expires_at=claims.get("exp"),
            actor=actor,
            mandate_service=str(claims["svc"]),
            mandate_application=str(claims["app"]),
        )
