"""The composition root of the gateway: its components, built once at start.

The assertion key ring, the Unified Register (loaded, seeded), the routed exchange (token
verifier with the revocation deny list, audit writer, agency transport, breakers, buckets,
per-source limits), applications with their process engine, and the SMS dispatcher. The
background loops start in :func:`start_loops`, after Kafka's consumer; :func:`stop_gateway`
closes it all. Entrypoints reach the components through ``api/dependencies.py``.

Tests and benchmarks put parts in place before start through :func:`overrides_of`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx
import structlog
from fastapi import FastAPI
from starlette.types import Scope

from egov_gateway.exchange.adapters.agency_transport import AgencyTransport
from egov_gateway.exchange.adapters.audit_writer import AuditWriter, audit_engine, sink_for
from egov_gateway.exchange.adapters.mandate import MandateVerifier, issue_mandate
from egov_gateway.exchange.adapters.register_memory import InMemoryRegister
from egov_gateway.exchange.adapters.revocation import DenyList, RevocationPoller
from egov_gateway.exchange.adapters.tokens import TokenVerifier
from egov_gateway.exchange.domain.breaker import Breakers
from egov_gateway.exchange.domain.ratelimit import Limit, TokenBuckets
from egov_gateway.exchange.domain.register_port import RegisterPort
from egov_gateway.exchange.service_layer.exchange import RoutedExchange
from egov_gateway.exchange.service_layer.source import (
    FAILURES,
    SOURCE,
    SourceLimits,
    SourceResolver,
)
from egov_gateway.register.adapters.agencies import AgencyClient
from egov_gateway.register.seed import default_agency_urls
from egov_gateway.register.service_layer.register import UnifiedRegister
from egov_gateway.register.service_layer.unit_of_work import RegisterUnitOfWork
from egov_gateway.settings import GatewaySettings
from egov_gateway.singlewindow.applications.adapters.exchange import RoutedStepCaller
from egov_gateway.singlewindow.applications.domain.ports import StepCaller
from egov_gateway.singlewindow.applications.service_layer.engine import (
    ApplicationsUnitOfWork,
    ProcessEngine,
)
from egov_gateway.singlewindow.applications.service_layer.service import (
    Applications,
    register_engine,
)
from egov_gateway.singlewindow.notifications.adapters.sms import (
    RoutedSmsSender,
    SmsDispatcher,
    SmsSender,
)
from meshkit.auth.keys import KeyRing, public_jwks_from_pem
from meshkit.devsecrets import dev_secret
from meshkit.gateway_client import GatewayClient
from meshkit.messaging import UnitOfWorkFactory
from meshkit.service import Bootstrap, ServiceRuntime

log = structlog.get_logger("egov_gateway.bootstrap")

SMS_INTERVAL_S = 2.0


@dataclass
class Overrides:
    """Parts a test or a benchmark puts in place of the real ones, before the gateway starts."""

    #: routes with this register instead of the Unified Register (which still serves its API)
    routing_register: RegisterPort | None = None
    #: reaches the agencies of routed calls (in-process agencies, say)
    upstream_transport: httpx.AsyncBaseTransport | None = None
    #: reaches the agencies' OpenAPI documents and readiness probes
    register_transport: httpx.AsyncBaseTransport | None = None
    #: runs the steps of applications instead of the gateway's own routed exchange
    applications_caller: StepCaller | None = None
    sms_sender: SmsSender | None = None
    sms_dispatch: bool = True  # False: tests drive ``sms.run_once()`` themselves
    admin_token: str | None = None
    admin_disabled: bool = False  # as outside dev mode without GATEWAY_ADMIN_TOKEN


@dataclass(frozen=True)
class Components:
    """Everything the gateway's entrypoints need, built once at start."""

    settings: GatewaySettings
    keyring: KeyRing
    admin_token: str | None
    register: UnifiedRegister
    verifier: TokenVerifier
    audit_writer: AuditWriter
    revocations: RevocationPoller
    exchange: RoutedExchange
    applications: Applications
    step_caller: StepCaller
    sms: SmsDispatcher
    sms_dispatch: bool


def overrides_of(app: FastAPI) -> Overrides:
    overrides: Overrides = app.state.gateway_overrides
    return overrides


def components_of(app: Any) -> Components:
    """The running gateway's components (an app, or ``scope["app"]``); 503 while starting."""
    runtime: ServiceRuntime = app.state.runtime
    return runtime.components_as(Components)


def exchange_of(scope: Scope) -> RoutedExchange | None:
    """The routed exchange of the app serving ``scope``, None while the gateway starts."""
    components = scope["app"].state.runtime.components
    return components.exchange if isinstance(components, Components) else None


def effective_agency_urls(s: GatewaySettings) -> dict[str, str]:
    return {**default_agency_urls(), **{k.lower(): v for k, v in s.agency_urls.items()}}


def load_keyring(s: GatewaySettings) -> KeyRing:
    ring = KeyRing.load(
        pem=s.signing_key_pem,
        pem_file=s.signing_key_file,
        dev_mode=s.dev_mode,
        dev_path=s.data_dir / "keys" / "gateway-assertion.pem",
        what="gateway assertion signing key (GATEWAY_SIGNING_KEY_PEM)",
    )
    # rotation: the next key is published before any replica signs with it, the previous
    # one until no replica does (deploy/RUNBOOK.md §3.1)
    extra = s.additional_public_keys_pem or ""
    if s.additional_public_keys_file:
        extra += "\n" + s.additional_public_keys_file.read_text()
    try:
        retired = public_jwks_from_pem(extra)
    except ValueError as exc:
        raise RuntimeError(f"GATEWAY_ADDITIONAL_PUBLIC_KEYS_PEM/_FILE: {exc}") from exc
    ring.retired = [jwk for jwk in retired if jwk["kid"] != ring.current.kid]
    return ring


def bootstrap(overrides: Overrides) -> Bootstrap:
    """The gateway's bootstrap (``ServiceDefinition.bootstrap``) with these overrides."""

    async def build(runtime: ServiceRuntime) -> Components:
        return await build_components(runtime, overrides)

    return build


async def build_components(runtime: ServiceRuntime, o: Overrides) -> Components:
    s = runtime.settings
    assert isinstance(s, GatewaySettings)
    keyring = load_keyring(s)
    admin_token = None if o.admin_disabled else o.admin_token or s.admin_token
    if admin_token is None and s.dev_mode and not o.admin_disabled:
        admin_token = dev_secret("gateway-admin", s.data_dir)
    register = await _start_register(runtime, s, o)
    exchange, verifier, writer, revocations = await _start_exchange(
        runtime, s, o, keyring, o.routing_register or _routing_register(s, register)
    )
    applications, caller = _applications(runtime, s, o, keyring, register)
    sender = o.sms_sender or RoutedSmsSender(runtime.gateway_client())
    sms = SmsDispatcher(runtime.uow_factory, sender)
    return Components(
        settings=s,
        keyring=keyring,
        admin_token=admin_token,
        register=register,
        verifier=verifier,
        audit_writer=writer,
        revocations=revocations,
        exchange=exchange,
        applications=applications,
        step_caller=caller,
        sms=sms,
        sms_dispatch=o.sms_dispatch,
    )


def _routing_register(s: GatewaySettings, register: UnifiedRegister) -> RegisterPort:
    # a static register (GATEWAY_REGISTER_FILE) keeps routing; the register API still serves
    # the Unified Register
    if s.register_file is not None:
        return InMemoryRegister.from_file(s.register_file)
    return register


async def _start_register(
    runtime: ServiceRuntime, s: GatewaySettings, o: Overrides
) -> UnifiedRegister:
    factory = UnitOfWorkFactory(
        runtime.session_factory,
        source=s.source,
        topic=s.own_topic,
        uow_class=RegisterUnitOfWork,
        on_commit=runtime.uow_factory.on_commit,
    )
    agencies = AgencyClient(
        transport=o.register_transport, timeout_s=s.register_options.probe_timeout_s
    )

    def new_uow() -> RegisterUnitOfWork:
        return cast(RegisterUnitOfWork, factory())

    register = UnifiedRegister(new_uow, agencies, s.register_options)
    await register.start(effective_agency_urls(s), explicit_urls={k.lower() for k in s.agency_urls})
    return register


async def _start_exchange(
    runtime: ServiceRuntime,
    s: GatewaySettings,
    o: Overrides,
    keyring: KeyRing,
    register: RegisterPort,
) -> tuple[RoutedExchange, TokenVerifier, AuditWriter, RevocationPoller]:
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
    transport: httpx.AsyncBaseTransport = o.upstream_transport or AgencyTransport(
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
        return keyring.jwks()

    exchange = RoutedExchange(
        s,
        register=register,
        keyring=keyring,
        verifier=verifier,
        writer=writer,
        transport=transport,
        breakers=Breakers(
            failure_threshold=s.breaker_failure_threshold, cooldown_s=s.breaker_cooldown_s
        ),
        buckets=buckets,
        mandates=MandateVerifier(own_jwks),
        source_limits=SourceLimits(SourceResolver(s.trusted_networks)),
    )
    return exchange, verifier, writer, revocations


def _applications(
    runtime: ServiceRuntime,
    s: GatewaySettings,
    o: Overrides,
    keyring: KeyRing,
    register: UnifiedRegister,
) -> tuple[Applications, StepCaller]:
    options = s.applications
    factory = UnitOfWorkFactory(
        runtime.session_factory,
        source=s.source,
        topic=s.own_topic,
        uow_class=ApplicationsUnitOfWork,
        on_commit=runtime.uow_factory.on_commit,
    )

    def new_uow() -> ApplicationsUnitOfWork:
        return cast(ApplicationsUnitOfWork, factory())

    caller = o.applications_caller
    if caller is None:
        # no gateway credential at all: each step carries the applicant's mandate
        client = GatewayClient(
            s.gateway_url,
            client_code="gateway",
            timeout_s=options.call_timeout_s,
            transport=httpx.AsyncHTTPTransport(trust_env=False),
        )

        def mandate(*, applicant_iin: str, application_id: str, service_code: str) -> str:
            return issue_mandate(
                keyring.current,
                applicant_iin=applicant_iin,
                application_id=application_id,
                service_code=service_code,
            )

        caller = RoutedStepCaller(client, mandate)
    engine = ProcessEngine(new_uow, caller, options)
    register_engine(runtime.session_factory, engine)
    applications = Applications(uows=new_uow, register=register, engine=engine, clock=engine.clock)
    return applications, caller


async def start_loops(runtime: ServiceRuntime) -> None:
    """The background loops, once Kafka's relay and consumer run."""
    gw = runtime.components_as(Components)
    s = gw.settings
    if s.register_options.background:
        runtime.spawn(gw.register.openapi_loop(), "register-openapi")
        runtime.spawn(gw.register.probe_loop(), "register-probe")
        runtime.spawn(gw.register.reload_loop(), "register-reload")
    if s.applications.engine:
        runtime.spawn(gw.applications.engine.sweep_loop(), "applications-engine")
    if gw.sms_dispatch:
        runtime.spawn(gw.sms.loop(SMS_INTERVAL_S), "notifications-sms")


async def stop_gateway(runtime: ServiceRuntime) -> None:
    gw = runtime.components
    if not isinstance(gw, Components):
        return
    closing: list[Callable[[], Awaitable[object]]] = [gw.applications.engine.stop]
    if isinstance(gw.step_caller, RoutedStepCaller):  # ours, not a test's
        closing.append(gw.step_caller.aclose)
    closing += [
        gw.revocations.stop,
        gw.exchange.transport.aclose,
        gw.audit_writer.stop,
        gw.audit_writer.engine.dispose,
        gw.register.aclose,
    ]
    for close in closing:
        # one part failing to close must not keep the others open
        try:
            await close()
        except Exception:
            log.exception("gateway.stop_failed", part=getattr(close, "__qualname__", "?"))
