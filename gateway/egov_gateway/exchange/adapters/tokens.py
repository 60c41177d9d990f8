"""Bearer tokens of citizens, agencies and operators, verified against identity's JWKS.

Verified tokens are cached (keyed by the token itself) until the earlier of their expiry and
the JWKS cache lifetime, so a hot client costs one signature check per key-cache period and a
key removed from the JWKS stops being honoured once that period ends.

Every request, cache hits included, is checked against the replica's deny list of revoked
sessions (:mod:`egov_gateway.exchange.adapters.revocation`): logout, password change and account lock end
a token's use within the deny list's polling period. Mandates of the single window are not
sessions and are not checked.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import httpx

from egov_gateway.exchange.adapters.mandate import MandateVerifier, is_mandate
from egov_gateway.exchange.adapters.revocation import SESSION_ENDED, DenyList
from meshkit.auth.jwks import JWKSClient, TokenInvalid
from meshkit.auth.principal import Principal

REQUIRED_CLAIMS = ("exp", "iat", "sub")
KINDS = frozenset({"citizen", "agency", "operator"})


class SessionEnded(TokenInvalid):
    """A valid token of a session that was revoked (logout, password change, lock)."""

    def __init__(self) -> None:
        super().__init__(SESSION_ENDED)


class TokenVerifier:
    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        http: httpx.AsyncClient | None = None,
        cache_ttl_s: float = 300.0,
        min_refresh_s: float = 5.0,
        max_cached: int = 50_000,
        deny: DenyList | None = None,
    ) -> None:
        self.jwks = JWKSClient(jwks_url, http=http, ttl_s=cache_ttl_s, min_refresh_s=min_refresh_s)
        self.issuer = issuer
        self.audience = audience
        self._ttl = cache_ttl_s
        self._max = max_cached
        # token → (principal, valid until, iat)
        self._cache: OrderedDict[str, tuple[Principal, float, float | None]] = OrderedDict()
        self.deny = deny if deny is not None else DenyList()

    def forget(self) -> None:
        """Drop cached keys and verified tokens (e.g. at once after a key compromise)."""
        self._cache.clear()
        self.jwks._keys = {}

    async def principal(
        self, authorization: str | None, *, mandates: MandateVerifier | None = None
    ) -> Principal | None:
        """The caller of a request, None without credentials; raises TokenInvalid.

        ``mandates``: also accept the single window's citizen mandates (the routed exchange
        only; see :mod:`egov_gateway.exchange.adapters.mandate`)."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise TokenInvalid("use Authorization: Bearer <token>")
        now = time.time()
        cached = self._cached(token, now)
        if cached is not None:
            return cached
        if is_mandate(token):  # never cached: one mandate per step call
            if mandates is None:
                raise TokenInvalid("token is not meant for this audience")
            return await mandates.principal(token)
        return await self._verified(token, now)

    def _cached(self, token: str, now: float) -> Principal | None:
        """A token verified before and still valid — unless its session has ended since."""
        hit = self._cache.get(token)
        if hit is None:
            return None
        principal, valid_until, iat = hit
        if now >= valid_until:
            self._cache.pop(token, None)
            return None
        if self.deny and self.deny.refuses(principal.subject, principal.session_id, iat):
            raise SessionEnded
        return principal

    async def _verified(self, token: str, now: float) -> Principal:
        claims = await self.jwks.verify(
            token, audience=self.audience, issuer=self.issuer, required=REQUIRED_CLAIMS
        )
        kind = claims.get("kind") or claims.get("typ_principal")
        if kind not in KINDS:
            raise TokenInvalid("token does not say what kind of principal it is")
        principal = Principal.from_claims(claims)
        iat = _number(claims.get("iat"))
        if self.deny and self.deny.refuses(principal.subject, principal.session_id, iat):
            raise SessionEnded
        if self._ttl > 0:
            self._cache[token] = (principal, min(float(claims["exp"]), now + self._ttl), iat)
            if len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return principal


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
