"""Start and stop the routed exchange with the service (``on_startup``/``on_shutdown`` hooks).

What it puts in ``runtime.extras``: ``token_verifier``, ``audit_writer``, ``exchange``,
``source_limits`` (per-source limits, routing/source.py) and ``revocations`` (the poller of
revoked sessions into the verifier's deny list, auth/revocation.py).
It reads ``keyring`` (the assertion key) and ``register`` (a RegisterPort) from there; a
register set before this hook runs wins (tests, the Unified Register), otherwise a static
one is loaded from ``GATEWAY_REGISTER_FILE`` (or an empty one: every call is then a 404).
Tests may also put an ``upstream_transport`` (httpx transport) there to reach in-process agencies.
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from egov_gateway.adapters.agency_transport import AgencyTransport
from egov_gateway.adapters.register_memory import InMemoryRegister
from egov_gateway.audit.writer import AuditWriter, audit_engine, sink_for
from egov_gateway.auth.mandate import MandateVerifier
from egov_gateway.auth.revocation import DenyList, RevocationPoller
from egov_gateway.auth.tokens import TokenVerifier
from egov_gateway.routing.breaker import Breakers
from egov_gateway.routing.exchange import RoutedExchange
from egov_gateway.routing.ratelimit import Limit, TokenBuckets
from egov_gateway.routing.source import FAILURES, SOURCE, SourceLimits, SourceResolver
from egov_gateway.settings import GatewaySettings
from meshkit.service import ServiceRuntime

log = structlog.get_logger("egov_gateway.routing")


async def start_exchange(runtime: ServiceRuntime) -> None:
    s = runtime.settings
    assert isinstance(s, GatewaySettings)
    extras = runtime.extras
    if "register" not in extras:
        if s.register_file is not None:
            extras["register"] = InMemoryRegister.from_file(s.register_file)
        else:
            log.warning("exchange.no_register", hint="set GATEWAY_REGISTER_FILE or wire a register")
            extras["register"] = InMemoryRegister()
    verifier = TokenVerifier(
        s.effective_identity_jwks_url,
        issuer=s.effective_identity_issuer,
        audience=s.token_audience,
        http=runtime.http,
        cache_ttl_s=s.jwks_cache_ttl_s,
        min_refresh_s=s.jwks_min_refresh_s,
        deny=DenyList(),
    )
    engine = audit_engine(s.effective_database_url)
    writer = AuditWriter(
        engine,
        instance_id=s.instance_id,
        batch_max=s.audit_batch_max,
        sink=sink_for(engine, sqlite_synchronous=s.audit_sqlite_synchronous),
    )
    await writer.start()
    transport: httpx.AsyncBaseTransport = extras.get("upstream_transport") or AgencyTransport(
        max_connections=s.upstream_max_connections,
        fallback=httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=s.upstream_max_connections,
                max_keepalive_connections=s.upstream_max_connections,
                keepalive_expiry=4.0,
            ),
            trust_env=False,
        ),
    )
    buckets = TokenBuckets(
        {
            "agency": Limit(s.rate_limit_agency_rps, s.rate_limit_agency_burst),
            "citizen": Limit(s.rate_limit_citizen_rps, s.rate_limit_citizen_burst),
            "anonymous": Limit(s.rate_limit_anonymous_rps, s.rate_limit_anonymous_burst),
            SOURCE: Limit(s.rate_limit_source_rps, s.rate_limit_source_burst),
            FAILURES: Limit(s.rate_limit_source_failures_rps, s.rate_limit_source_failures_burst),
        }
    )
    source_limits = SourceLimits(SourceResolver(s.trusted_networks))

    def key_retired(kid: str) -> None:
        log.info("revocation.key_retired", kid=kid)
        verifier.forget()

    revocations = RevocationPoller(
        runtime.engine,
        verifier.deny,
        on_key_retired=key_retired,
        interval_s=s.revocation_poll_s,
        retain_s=s.revocation_retain_s,
    )
    await revocations.start()

    async def own_jwks() -> dict[str, Any]:
        jwks: dict[str, Any] = extras["keyring"].jwks()
        return jwks

    extras["token_verifier"] = verifier
    extras["source_limits"] = source_limits
    extras["revocations"] = revocations
    extras["audit_writer"] = writer
    extras["upstream_http"] = transport
    extras["exchange"] = RoutedExchange(
        s,
        extras=extras,
        verifier=verifier,
        writer=writer,
        transport=transport,
        breakers=Breakers(
            failure_threshold=s.breaker_failure_threshold, cooldown_s=s.breaker_cooldown_s
        ),
        buckets=buckets,
        mandates=MandateVerifier(own_jwks),
        source_limits=source_limits,
    )


async def stop_exchange(runtime: ServiceRuntime) -> None:
    extras = runtime.extras
    revocations: RevocationPoller | None = extras.get("revocations")
    if revocations is not None:
        await revocations.stop()
    transport: httpx.AsyncBaseTransport | None = extras.get("upstream_http")
    if transport is not None:
        await transport.aclose()
    writer: AuditWriter | None = extras.get("audit_writer")
    if writer is not None:
        await writer.stop()
        await writer.engine.dispose()
