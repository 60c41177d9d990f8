"""The gateway assertion (``X-Mesh-Assertion``): proof that a call came through the gateway.

The gateway signs a short-lived JWT over method, path, query, body digest, client, user and
request id; an agency verifies it against the gateway's JWKS and refuses the call otherwise, so
a call that bypasses the gateway never reaches a routed endpoint, and a signed assertion cannot
be reused with another query or body (docs/gateway-assertion.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Annotated, Any

import structlog
from fastapi import Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from meshkit.auth.jwks import JWKSClient, TokenInvalid
from meshkit.auth.keys import SigningKey
from meshkit.errors import Unauthenticated
from meshkit.observability import metrics

_security_log = structlog.get_logger("meshkit.security")

ASSERTION_HEADER = "X-Mesh-Assertion"
GATEWAY_ISSUER = "egov-gateway"
ASSERTION_TTL_S = 60


def body_digest(body: bytes = b"") -> str:
    """The ``bdh`` claim: base64url (no padding) of the SHA-256 of the body as forwarded."""
    return digest_claim(hashlib.sha256(body).digest())


def digest_claim(sha256: bytes) -> str:
    """``bdh`` from a SHA-256 already computed (a body hashed as it streamed)."""
    return base64.urlsafe_b64encode(sha256).rstrip(b"=").decode("ascii")


class RoutedCall(BaseModel):
    """What an agency knows about a routed call once the assertion is verified."""

    client: str  # agency code or "citizen"
    user: str | None = None  # IIN of the person on whose behalf
    purpose: str | None = None
    request_id: str
    service_code: str | None = None
    method: str
    path: str
    #: who made the call for ``user`` when not the user themself: ``gateway`` when the single
    #: window runs a step of the citizen's application under the citizen's mandate (the
    #: client is then ``citizen`` and every citizen rule applies as to a direct call)
    actor: str | None = None

    @property
    def is_citizen(self) -> bool:
        return self.client == "citizen"


def sign_assertion(
    key: SigningKey,
    *,
    agency: str,
    method: str,
    path: str,
    client: str,
    user: str | None,
    request_id: str,
    purpose: str | None = None,
    service_code: str | None = None,
    actor: str | None = None,
    query: str = "",
    body: bytes = b"",
    body_sha256: bytes | None = None,
    ttl_s: int = ASSERTION_TTL_S,
    now: float | None = None,
) -> str:
    """``query`` is the raw query string as forwarded (no ``?``); ``body`` the body's bytes, or
    ``body_sha256`` their digest when the body was hashed as it streamed."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": GATEWAY_ISSUER,
        "aud": agency,
        "sub": client,
        "iat": issued,
        "exp": issued + ttl_s,
        "jti": request_id,
        "htm": method.upper(),
        "htu": path,
        "usr": user,
        "pur": purpose,
        "svc": service_code,
        # the query and the body, so the assertion cannot be replayed with other ones
        "htq": query,
        "bdh": digest_claim(body_sha256) if body_sha256 is not None else body_digest(body),
        # every signature is unique, so an agency can refuse a replayed one outright
        "nonce": secrets.token_urlsafe(12),
    }
    if actor:
        claims["act"] = {"sub": actor}  # RFC 8693 actor: who acts for the user
    return key.sign(claims)


class AssertionVerifier:
    def __init__(self, jwks: JWKSClient, *, agency: str, replay_cache_size: int = 200_000) -> None:
        self.jwks = jwks
        self.agency = agency
        # digest of each accepted assertion → its expiry; per process (an assertion lives
        # 60 s and is bound to one request of one agency, so a per-instance cache suffices
        # against replays at this instance; see the runbook for the multi-replica note)
        self._seen: dict[bytes, float] = {}
        self._cache_size = replay_cache_size

    def _first_use(self, token: str, exp: float) -> bool:
        now = time.time()
        if len(self._seen) >= self._cache_size:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        digest = hashlib.sha256(token.encode()).digest()
        if digest in self._seen and self._seen[digest] > now:
            return False
        self._seen[digest] = exp
        return True

    async def verify(
        self,
        token: str | None,
        *,
        method: str,
        path: str,
        request_id: str | None,
        query: str,
        body: bytes,
    ) -> RoutedCall:
        """``query``: the raw query string (ASGI ``query_string`` as latin-1); ``body``: the
        bytes received. Both must be what the assertion binds (``htq``, ``bdh``)."""
        if not token:
            raise Unauthenticated(
                "this endpoint only answers calls routed through the e-government gateway "
                f"({ASSERTION_HEADER} missing)"
            )
        try:
            claims = await self.jwks.verify(
                token,
                audience=self.agency,
                issuer=GATEWAY_ISSUER,
                required=("exp", "iat", "sub", "jti"),
            )
        except TokenInvalid as exc:
            raise Unauthenticated(f"gateway assertion rejected: {exc.reason}") from None
        if claims.get("htm") != method.upper() or claims.get("htu") != path:
            raise Unauthenticated("gateway assertion was issued for another request")
        htq, bdh = claims.get("htq"), claims.get("bdh")
        if not isinstance(htq, str) or not isinstance(bdh, str):
            raise Unauthenticated("gateway assertion does not bind the query and the body")
        if htq != query or not hmac.compare_digest(bdh, body_digest(body)):
            raise Unauthenticated("gateway assertion was issued for another query/body")
        if request_id is not None and claims.get("jti") != request_id:
            raise Unauthenticated("gateway assertion does not match X-Request-Id")
        if not self._first_use(token, float(claims["exp"]) + 5):
            raise Unauthenticated("gateway assertion was already used (replay refused)")
        return RoutedCall(
            client=str(claims["sub"]),
            user=claims.get("usr"),
            purpose=claims.get("pur"),
            request_id=str(claims["jti"]),
            service_code=claims.get("svc"),
            method=method.upper(),
            path=path,
            actor=_actor(claims.get("act")),
        )


def _actor(act: Any) -> str | None:
    if isinstance(act, dict) and isinstance(act.get("sub"), str):
        return str(act["sub"])
    return None


#: documents, in every agency's OpenAPI, that an operation is reached only through the gateway
gateway_assertion = APIKeyHeader(
    name=ASSERTION_HEADER,
    scheme_name="GatewayAssertion",
    description="The gateway's signed assertion (EdDSA JWS) for exactly this request: "
    "agencies answer only calls routed through the gateway's /x/{agency}/{path}.",
    auto_error=False,
)


async def routed_call(
    request: Request, _assertion: Annotated[str | None, Security(gateway_assertion)] = None
) -> RoutedCall:
    """FastAPI dependency for every endpoint that is reached through ``/x/{agency}/...``.

    A refused call (no assertion, a forged, replayed or misdirected one: someone bypassing
    the gateway) is the agency's own security event: logged with the peer, the path and why,
    and counted (``mesh_gateway_bypass_refused_total``) — the gateway never sees it."""
    verifier: AssertionVerifier = request.app.state.assertion_verifier
    token = request.headers.get(ASSERTION_HEADER)
    path = request.scope.get("root_path", "") + request.scope["path"]
    try:
        # the body as received (the limits middleware already bounded it); Starlette keeps it
        # on the request, so the endpoint still reads it
        body = await request.body() if token else b""
        return await verifier.verify(
            token,
            method=request.method,
            # the decoded path as routed (request.url.path is re-parsed and drops \n, \r, \t)
            path=path,
            request_id=request.headers.get("X-Request-Id"),
            query=request.scope.get("query_string", b"").decode("latin-1"),
            body=body,
        )
    except Unauthenticated as exc:
        reason = "missing" if not token else "rejected"
        _security_log.warning(
            "security.gateway_bypass_refused",
            agency=verifier.agency,
            reason=exc.detail,
            method=request.method,
            path=path[:300],
            peer=request.client.host if request.client else None,
        )
        metrics.GATEWAY_BYPASS_REFUSED.labels(verifier.agency, reason).inc()
        raise
