"""Verify JWTs against a JWKS URL, with caching and key rotation.

Keys are cached for ``ttl_s``; a token whose ``kid`` is unknown triggers one refetch (at most
once per ``min_refresh_s``), so a rotated-in key works at once and a flood of forged kids
cannot hammer the issuer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt import PyJWK

JWKSFetcher = Callable[[], Awaitable[dict[str, Any]]]


class TokenInvalid(Exception):
    """The token is not acceptable; ``reason`` is safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JWKSClient:
    def __init__(
        self,
        source: str | JWKSFetcher | dict[str, Any],
        *,
        http: httpx.AsyncClient | None = None,
        ttl_s: float = 300.0,
        min_refresh_s: float = 5.0,
        algorithms: Sequence[str] = ("EdDSA", "ES256"),
    ) -> None:
        self._source = source
        self._http = http
        self._ttl = ttl_s
        self._min_refresh = min_refresh_s
        self.algorithms = list(algorithms)
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self) -> dict[str, Any]:
        if isinstance(self._source, dict):
            return self._source
        if callable(self._source):
            return await self._source()
        if self._source.startswith("file://"):  # keys pinned on disk (offline, tests)
            pinned: dict[str, Any] = json.loads(Path(self._source[7:]).read_text())  # noqa: ASYNC240  tiny local file
            return pinned
        client = self._http or httpx.AsyncClient(timeout=5.0)
        try:
            resp = await client.get(self._source)
            resp.raise_for_status()
            data: dict[str, Any] = resp.json()
            return data
        finally:
            if self._http is None:
                await client.aclose()

    async def refresh(self, *, force: bool = False) -> None:
        async with self._lock:
            now = time.monotonic()
            if not force and now - self._fetched_at < self._min_refresh:
                return
            jwks = await self._fetch()
            keys: dict[str, PyJWK] = {}
            for jwk in jwks.get("keys", []):
                try:
                    key = PyJWK(jwk)
                except jwt.PyJWTError:
                    continue
                if key.key_id:
                    keys[key.key_id] = key
            self._keys = keys
            self._fetched_at = now

    async def key_for(self, kid: str) -> PyJWK:
        if not self._keys or time.monotonic() - self._fetched_at > self._ttl:
            await self.refresh(force=True)
        if kid not in self._keys:
            try:
                await self.refresh()
            except (httpx.HTTPError, ValueError) as exc:
                raise TokenInvalid("signing keys of the issuer are unavailable") from exc
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenInvalid("token signed by an unknown key") from None

    async def verify(
        self,
        token: str,
        *,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        leeway_s: float = 5.0,
        required: Sequence[str] = ("exp", "iat", "sub"),
    ) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenInvalid("malformed token") from None
        kid = header.get("kid")
        alg = header.get("alg")
        if not kid or alg not in self.algorithms:
            raise TokenInvalid("token must carry a kid and use EdDSA or ES256")
        try:
            key = await self.key_for(kid)
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenInvalid("signing keys of the issuer are unavailable") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=leeway_s,
                options={"require": list(required), "verify_aud": audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid("token expired") from None
        except jwt.InvalidAudienceError:
            raise TokenInvalid("token is not meant for this audience") from None
        except jwt.InvalidIssuerError:
            raise TokenInvalid("token issued by an untrusted issuer") from None
        except jwt.PyJWTError as exc:
            raise TokenInvalid(f"invalid token: {exc}") from None
        return claims
