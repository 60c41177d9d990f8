"""The token issuer: signing keys kept in the database (so every instance signs with the same
current key and publishes the same JWKS), rotation, and access-token minting/verification."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from egov_identity.domain.tokens import IssuerKey, PrincipalKind
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from egov_identity.settings import IdentitySettings
from meshkit.auth.jwks import JWKSClient, TokenInvalid
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.clock import Clock
from meshkit.contracts.identity import SigningKeyRetired
from meshkit.errors import NotFound, Unauthenticated
from meshkit.messaging.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def _record(key: SigningKey, clock: Clock) -> IssuerKey:
    return IssuerKey(
        kid=key.kid,
        alg=key.alg,
        public_jwk=key.public_jwk(),
        private_pem=key.private_pem().decode(),
        created_at=clock.now(),
    )


class TokenIssuer:
    def __init__(self, settings: IdentitySettings, uow: UowFactory, clock: Clock) -> None:
        self.settings = settings
        self._uow = uow
        self.clock = clock
        self._keys: list[IssuerKey] = []
        self._current: SigningKey | None = None
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()
        self.verifier = JWKSClient(self._jwks_source, ttl_s=settings.key_cache_s, min_refresh_s=0)

    @property
    def issuer(self) -> str:
        return self.settings.issuer

    # -- keys ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Make the configured key (or the dev key) known; a new one becomes current."""
        s = self.settings
        configured = KeyRing.load(
            pem=s.signing_key_pem,
            pem_file=s.signing_key_file,
            dev_mode=s.dev_mode,
            dev_path=s.data_dir / "identity-signing-key.pem",
            what="token signing key (IDENTITY_SIGNING_KEY_PEM)",
        ).current
        async with self._uow() as uow:
            assert isinstance(uow, IdentityUnitOfWork)
            if await uow.tokens.add_issuer_key(_record(configured, self.clock)):
                for key in await uow.tokens.issuer_keys():
                    if key.kid != configured.kid and key.current:
                        key.retire(self.clock.now())
                        await uow.tokens.save_issuer_key(key)
            await uow.commit()
        await self.reload(force=True)

    async def rotate(self, *, revoke_previous: bool = False) -> tuple[str, list[str]]:
        """Sign with a fresh key from now on. The old one stays published until its tokens
        have expired (so nothing already issued is invalidated) — unless
        ``revoke_previous``: then it is unpublished at once and announced
        (``signing_key.retired``), and every token it signed stops verifying.
        Returns the new kid and the revoked kids."""
        assert self._current is not None
        new = SigningKey.generate(self._current.alg)
        now = self.clock.now()
        revoked: list[str] = []
        async with self._uow() as uow:
            assert isinstance(uow, IdentityUnitOfWork)
            for key in await uow.tokens.issuer_keys():
                if key.current:
                    key.retire(now)
                    if revoke_previous:
                        self._revoke(uow, key, now)
                        revoked.append(key.kid)
                    await uow.tokens.save_issuer_key(key)
            await uow.tokens.add_issuer_key(_record(new, self.clock))
            await uow.commit()
        await self._forget_cached_keys()
        return new.kid, revoked

    async def revoke(self, kid: str) -> tuple[IssuerKey, str | None]:
        """Revoke one key (a compromise): out of the JWKS at once, announced in the same
        transaction. The current key is first replaced by a fresh one. Revoking a revoked
        key changes and announces nothing. Returns the key and the new current kid, if any."""
        assert self._current is not None
        now = self.clock.now()
        new_kid: str | None = None
        async with self._uow() as uow:
            assert isinstance(uow, IdentityUnitOfWork)
            key = next((k for k in await uow.tokens.issuer_keys() if k.kid == kid), None)
            if key is None:
                raise NotFound(f"no signing key with kid {kid}")
            if key.revoked_at is None:
                if key.current:
                    new = SigningKey.generate(self._current.alg)
                    await uow.tokens.add_issuer_key(_record(new, self.clock))
                    new_kid = new.kid
                self._revoke(uow, key, now)
                await uow.tokens.save_issuer_key(key)
                await uow.commit()
        await self._forget_cached_keys()
        return key, new_kid

    @staticmethod
    def _revoke(uow: IdentityUnitOfWork, key: IssuerKey, now: datetime) -> None:
        if key.revoke(now):
            uow.emit(SigningKeyRetired(kid=key.kid, retired_at=now), subject=key.kid)

    async def _forget_cached_keys(self) -> None:
        """This instance signs and verifies with the new key ring at once (the others
        within ``IDENTITY_KEY_CACHE_S``)."""
        await self.reload(force=True)
        await self.verifier.refresh(force=True)

    async def reload(self, *, force: bool = False) -> None:
        async with self._lock:
            if not force and time.monotonic() - self._loaded_at < self.settings.key_cache_s:
                return
            async with self._uow() as uow:
                assert isinstance(uow, IdentityUnitOfWork)
                keys = await uow.tokens.issuer_keys()
            current = next((k for k in keys if k.current), None)
            if current is None or current.private_pem is None:
                raise RuntimeError("the issuer has no current signing key")
            self._keys = keys
            if self._current is None or self._current.kid != current.kid:
                self._current = SigningKey.from_pem(current.private_pem, kid=current.kid)
            self._loaded_at = time.monotonic()

    async def jwks(self) -> dict[str, Any]:
        await self.reload()
        now = self.clock.now()
        ttl = self.settings.access_token_ttl_s
        return {"keys": [k.public_jwk for k in self._keys if k.published(now, ttl)]}

    async def _jwks_source(self) -> dict[str, Any]:
        return await self.jwks()

    @property
    def alg(self) -> str:
        return self._current.alg if self._current else "EdDSA"

    # -- access tokens -------------------------------------------------------------------------
    async def access_token(
        self,
        *,
        subject: str,
        kind: PrincipalKind,
        scope: str,
        session_id: str,
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, int]:
        """Sign with the cached current key. Callers ``await reload()`` first, outside any
        open transaction (SQLite has one writer: a nested read would wait on ourselves)."""
        assert self._current is not None
        issued = int(self.clock.now().timestamp())
        ttl = self.settings.access_token_ttl_s
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.settings.audience,
            "sub": subject,
            "kind": kind,
            "scope": scope,
            "sid": session_id,
            "jti": str(uuid.uuid4()),
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl,
            **(extra or {}),
        }
        return self._current.sign(claims, headers={"typ": "at+jwt"}), ttl

    async def consent_token(
        self,
        *,
        subject: str,
        actor: dict[str, str],
        audience: str,
        scope: str,
        consent_id: str,
        ttl_s: int,
    ) -> tuple[str, int]:
        """A citizen's consent to an actor (RFC 8693 ``act``), for one audience only."""
        assert self._current is not None
        issued = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject,
            "kind": "citizen",
            "scope": scope,
            "act": actor,
            "amr": ["otp"],
            "jti": consent_id,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_s,
        }
        return self._current.sign(claims, headers={"typ": "at+jwt"}), ttl_s

    async def verify(self, token: str) -> dict[str, Any]:
        """Verify one of our own access tokens (userinfo, logout, introspection)."""
        try:
            return await self.verifier.verify(
                token,
                audience=self.settings.audience,
                issuer=self.issuer,
                required=("exp", "iat", "sub", "sid"),
            )
        except TokenInvalid as exc:
            raise Unauthenticated(f"access token rejected: {exc.reason}") from None
