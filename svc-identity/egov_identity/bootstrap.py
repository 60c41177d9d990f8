"""The composition root of svc-identity: the components its entrypoints use, built once at
start (issuer keys, the CA root, login policy), then the dev seed and the background loops
(SMS dispatch, disclosure log). Entrypoints reach them through ``api/deps.py``."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from egov_identity.adapters.passwords import Argon2Hasher
from egov_identity.adapters.sms import sms_sender
from egov_identity.domain.credentials import LoginPolicy
from egov_identity.domain.persons import Person
from egov_identity.domain.pki import CertificateAuthority
from egov_identity.service_layer.auth import AuthContext
from egov_identity.service_layer.ca import load_authority
from egov_identity.service_layer.issuer import TokenIssuer
from egov_identity.service_layer.persons import DisclosureLog
from egov_identity.service_layer.sms import deliver_queued
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from egov_identity.settings import IdentitySettings
from egov_identity.views import PersonReadModel
from meshkit.clock import Clock, SystemClock
from meshkit.devsecrets import dev_secret
from meshkit.messaging.uow import UnitOfWork
from meshkit.service import Bootstrap, ServiceRuntime

log = structlog.get_logger("identity")


@dataclass(frozen=True)
class Components:
    """Everything the entrypoints of svc-identity need, built once at start."""

    settings: IdentitySettings
    clock: Clock
    uow: Callable[[], UnitOfWork] = field(repr=False)
    issuer: TokenIssuer
    ca: CertificateAuthority
    reads: PersonReadModel
    auth: AuthContext
    disclosures: DisclosureLog

    def new_uow(self) -> IdentityUnitOfWork:
        uow = self.uow()
        assert isinstance(uow, IdentityUnitOfWork)
        return uow

    async def person_record(self, iin: str) -> Person | None:
        return await self.reads.person(iin)


def _pepper(settings: IdentitySettings, issuer_key_pem: bytes) -> bytes:
    if settings.otp_pepper:
        return settings.otp_pepper.encode()
    if settings.dev_mode:
        return dev_secret("identity-otp-pepper", settings.data_dir).encode()
    # derived from the configured signing key: one secret less to manage
    return hashlib.sha256(b"otp-pepper:" + issuer_key_pem).digest()


def bootstrap(*, clock: Clock | None = None) -> Bootstrap:
    """The service's bootstrap; ``clock`` is one clock for every rule (tests move it)."""

    async def build(runtime: ServiceRuntime) -> Components:
        return await build_components(runtime, clock or SystemClock())

    return build


async def build_components(runtime: ServiceRuntime, clock: Clock) -> Components:
    settings = runtime.settings
    assert isinstance(settings, IdentitySettings)
    sms = sms_sender(settings)  # outside dev mode without a provider: refuse to start
    uow = runtime.uow_factory
    issuer = TokenIssuer(settings, uow, clock)
    await issuer.start()
    ca = await load_authority(settings, uow, clock)
    hasher = Argon2Hasher(
        time_cost=settings.password_time_cost,
        memory_kib=settings.password_memory_kib,
        parallelism=settings.password_parallelism,
    )
    policy = LoginPolicy(
        max_failures=settings.login_max_failures,
        lockout_s=settings.lockout_s,
        otp_ttl_s=settings.otp_ttl_s,
        otp_max_attempts=settings.otp_max_attempts,
        password_min_length=settings.password_min_length,
    )
    key_pem = (settings.signing_key_pem or "").encode() or (
        settings.signing_key_file.read_bytes() if settings.signing_key_file else b""
    )
    auth = AuthContext(
        settings=settings,
        issuer=issuer,
        hasher=hasher,
        pepper=_pepper(settings, key_pem),
        policy=policy,
        clock=clock,
        ca=ca,
        uow=uow,
        dummy_hash=await asyncio.to_thread(hasher.hash, "not-a-password-0"),
        sms=sms,
    )
    disclosures = DisclosureLog(uow)
    reads = PersonReadModel(runtime.engine, pool_size=settings.db_pool_size)
    return Components(settings, clock, uow, issuer, ca, reads, auth, disclosures)


async def start_identity(runtime: ServiceRuntime) -> None:
    identity = runtime.components_as(Components)
    if identity.settings.dev_mode:
        from egov_identity.seed import seed

        await seed(identity.new_uow(), identity.settings, identity.auth.hasher)
    runtime.spawn(identity.disclosures.run(), "disclosure-log")
    runtime.spawn(_dispatch_sms(identity), "sms-dispatch")


async def stop_identity(runtime: ServiceRuntime) -> None:
    if isinstance(identity := runtime.components, Components):
        await identity.disclosures.flush()
        await identity.reads.close()
        if identity.auth.sms is not None:
            await identity.auth.sms.aclose()


async def _dispatch_sms(identity: Components, interval_s: float = 1.0) -> None:
    """Hands queued texts (notices, reset codes) to the SMS port; the codes a person waits
    for are delivered by their own request (``service_layer/sms.py``)."""
    sender = identity.auth.sms
    if sender is None:
        return
    while True:
        await asyncio.sleep(interval_s)  # polling the SMS outbox, not synchronisation
        try:
            await deliver_queued(
                identity.uow,
                sender,
                identity.clock,
                max_attempts=identity.settings.sms_max_attempts_queued,
            )
        except Exception:
            log.exception("sms.dispatch_failed")
