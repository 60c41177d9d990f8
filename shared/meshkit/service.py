"""Service runtime and app factory shared by the gateway and every agency.

A service declares what is its own (settings, routers, handlers, migrations, unit of work);
this module wires what is common: database, migrations, outbox relay, idempotent consumer,
gateway assertion check, gateway client, problem handlers, logs, metrics and health.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import structlog
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import text
from starlette.routing import Route

from meshkit.auth.assertion import AssertionVerifier
from meshkit.auth.jwks import JWKSClient
from meshkit.catalogue import asyncapi_router
from meshkit.db import create_engine, session_factory
from meshkit.echo import echo_handlers, echo_router
from meshkit.errors import UpstreamUnavailable
from meshkit.fastlane import install_fast_lanes
from meshkit.gateway_client import ClientCredentials, GatewayClient, TokenProvider
from meshkit.limits import RequestLimitsMiddleware
from meshkit.messaging.consumer import EventConsumer
from meshkit.messaging.handlers import HandlerRegistry
from meshkit.messaging.relay import OutboxRelay
from meshkit.messaging.uow import UnitOfWork, UnitOfWorkFactory
from meshkit.migrations import upgrade_to_head
from meshkit.observability.health import health_router
from meshkit.observability.logging import configure_logging
from meshkit.observability.middleware import RequestContextMiddleware
from meshkit.observability.tracing import enable_tracing
from meshkit.problems import install_problem_handlers
from meshkit.routed import router as routed_router
from meshkit.settings import ServiceSettings

log = structlog.get_logger("meshkit.service")

Hook = Callable[["ServiceRuntime"], Awaitable[None]]
#: a service's composition root: builds its components once, at start (``egov_<x>/bootstrap.py``)
Bootstrap = Callable[["ServiceRuntime"], Awaitable[object]]
C = TypeVar("C")


@dataclass
class ServiceDefinition:
    name: str
    title: str
    description: str
    settings: ServiceSettings
    migrations_dir: Path
    routers: Sequence[APIRouter] = ()
    handlers: HandlerRegistry = field(default_factory=HandlerRegistry)
    uow_class: type[UnitOfWork] = UnitOfWork
    # runs after migrations and before the consumer and the ``on_startup`` hooks; what it
    # returns is ``runtime.components`` (see ``components_dependency``)
    bootstrap: Bootstrap | None = None
    on_startup: Sequence[Hook] = ()
    on_shutdown: Sequence[Hook] = ()
    version: str = "1.0.0"
    # the gateway verifies its own callers; agencies verify the gateway's assertion
    verify_gateway_assertion: bool = True
    openapi_tags: list[dict[str, Any]] | None = None
    # hot routes served in front of FastAPI's middleware stack (meshkit.fastlane), tracing on
    # or off; they are also in a router (OpenAPI, route names); they read, limit and stream
    # their request bodies themselves (no 1 MiB buffering by RequestLimitsMiddleware)
    fast_routes: Sequence[Route] = ()


class ServiceRuntime:
    """Everything a running service holds; ``app.state.runtime``."""

    def __init__(self, definition: ServiceDefinition) -> None:
        self.definition = definition
        self.settings = definition.settings
        s = self.settings
        self.engine = create_engine(s.effective_database_url, pool_size=s.db_pool_size)
        self.session_factory = session_factory(self.engine)
        self.relay: OutboxRelay | None = None
        self.consumer: EventConsumer | None = None
        self.handlers = HandlerRegistry()
        self.handlers.merge(definition.handlers)
        if s.dev_mode:
            self.handlers.merge(echo_handlers)
        self.uow_factory = UnitOfWorkFactory(
            self.session_factory,
            source=s.source,
            topic=s.own_topic,
            uow_class=definition.uow_class,
            on_commit=self._wake_relay,
        )
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        self.gateway: GatewayClient | None = None
        self.assertion_verifier: AssertionVerifier | None = None
        #: what ``definition.bootstrap`` built (None until the service has started)
        self.components: object | None = None
        self._customisations: list[Callable[[Any], Any]] = []
        self._tasks: list[asyncio.Task[None]] = []

    def _wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def start(self) -> None:
        s = self.settings
        tune_garbage_collector(s.gc_gen0_threshold)
        # aiokafka reports every reconnect attempt; the relay and consumer log what matters
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        if s.migrate_on_start:
            await upgrade_to_head(self.engine, self.definition.migrations_dir)
        if self.definition.verify_gateway_assertion:
            jwks = JWKSClient(s.effective_gateway_jwks_url, http=self.http)
            self.assertion_verifier = AssertionVerifier(jwks, agency=s.service_name)
        if self.definition.bootstrap is not None:
            components = await self.definition.bootstrap(self)
            for change in self._customisations:
                components = change(components)
            self.components = components
        if s.kafka_enabled:
            self.relay = OutboxRelay(
                self.session_factory,
                bootstrap_servers=s.kafka_bootstrap_servers,
                service=s.service_name,
                batch_size=s.outbox_batch_size,
                poll_interval_s=s.outbox_poll_interval_s,
            )
            self._spawn(self.relay.run(), "outbox-relay")
            if self.handlers:
                topics = sorted(s.topic(p) for p in self.handlers.producers())
                self.consumer = EventConsumer(
                    topics=topics,
                    group_id=s.effective_consumer_group,
                    bootstrap_servers=s.kafka_bootstrap_servers,
                    handlers=self.handlers,
                    uow_factory=self.uow_factory,
                    service=s.service_name,
                    max_attempts=s.consumer_max_attempts,
                    max_batch=s.consumer_max_batch,
                )
                self._spawn(self.consumer.run(), "event-consumer")
        for hook in self.definition.on_startup:
            await hook(self)
        log.info("service.started", url=f"http://{s.host}:{s.port}", kafka=s.kafka_enabled)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service.task_crashed", task=name)
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    def spawn(self, coro: Awaitable[None], name: str) -> None:
        """Run a background loop for the life of the service (cancelled at stop)."""
        self._spawn(coro, name)

    async def stop(self) -> None:
        for hook in self.definition.on_shutdown:
            with contextlib.suppress(Exception):
                await hook(self)
        if self.relay is not None:
            await self.relay.stop()
        if self.consumer is not None:
            await self.consumer.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        if self.gateway is not None:
            await self.gateway.aclose()
        await self.http.aclose()
        await self.engine.dispose()

    # -- readiness ----------------------------------------------------------------------
    async def check_database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_kafka(self) -> None:
        last: Exception | None = None
        for server in self.settings.kafka_bootstrap_servers.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(host.strip("[]") or "127.0.0.1", int(port)), 2
                )
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
                return
            except (OSError, TimeoutError, ValueError) as exc:
                last = exc
        raise ConnectionError(f"no Kafka bootstrap server answers: {last!r}")

    def customise(self, change: Callable[[C], C]) -> None:
        """Tests: swap parts of the components (``dataclasses.replace``) as soon as the
        bootstrap has built them, before the consumer or any hook or request uses them."""
        self._customisations.append(change)

    def components_as(self, kind: type[C]) -> C:
        """The components the bootstrap built, typed; 503 while the service is starting."""
        found = self.components
        if not isinstance(found, kind):
            raise UpstreamUnavailable(
                f"{self.settings.service_name} is still starting", retry_after_s=1
            )
        return found

    def gateway_client(self, credentials: ClientCredentials | None = None) -> GatewayClient:
        """The client this service uses for calls through the gateway (created once).

        It authenticates as this service with OAuth2 client credentials at svc-identity
        (client id = service name, secret from settings or, in dev mode, generated).
        """
        if self.gateway is None:
            s = self.settings
            secret = s.effective_client_secret
            if credentials is None and secret:
                credentials = ClientCredentials(
                    token_url=s.token_url, client_id=s.service_name, client_secret=secret
                )
            provider = TokenProvider(credentials, self.http) if credentials else None
            self.gateway = GatewayClient(
                self.settings.gateway_url,
                client_code=self.settings.service_name,
                token_provider=provider,
            )
        return self.gateway


def tune_garbage_collector(gen0_threshold: int) -> None:
    """Collect the young generation every ``gen0_threshold`` allocations instead of every 700.

    Envelopes, payload models and rows are short-lived and free themselves by reference
    counting; the cycle collector finds nothing in them but still walks them every 700
    allocations. Older generations keep their default ratios. One process serves one service,
    so the setting is the process's."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


def create_service_app(definition: ServiceDefinition) -> FastAPI:
    s = definition.settings
    configure_logging(s.service_name, level=s.log_level, json=s.log_json)
    runtime = ServiceRuntime(definition)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        app.state.assertion_verifier = runtime.assertion_verifier
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        openapi_tags=definition.openapi_tags,
    )
    app.state.runtime = runtime
    app.state.settings = s
    checks: dict[str, Callable[[], Awaitable[None]]] = {"database": runtime.check_database}
    if s.kafka_enabled:
        checks["kafka"] = runtime.check_kafka
    app.state.readiness_checks = checks
    install_problem_handlers(app)
    app.add_middleware(
        RequestLimitsMiddleware,
        max_body_bytes=getattr(s, "max_body_bytes", 1_048_576),
        self_limited=definition.fast_routes,
    )
    app.add_middleware(RequestContextMiddleware, service=s.service_name)
    app.include_router(health_router(s.service_name))
    app.include_router(asyncapi_router(s.service_name))
    for router in definition.routers:
        app.include_router(router)
    if definition.verify_gateway_assertion:
        app.include_router(routed_router)
    if s.dev_mode:
        app.include_router(echo_router(s.service_name))
    if definition.fast_routes:
        install_fast_lanes(
            app,
            definition.fast_routes,
            service=s.service_name,
            max_body_bytes=getattr(s, "max_body_bytes", 1_048_576),
        )
    if s.otel_enabled:  # around the lanes and the stack alike: one request path either way
        enable_tracing(app, s.service_name)
    return app


def runtime_of(request: Request) -> ServiceRuntime:
    rt: ServiceRuntime = request.app.state.runtime
    return rt


def components_dependency(kind: type[C]) -> Callable[[Request], C]:
    """A FastAPI dependency handing out the service's components of class ``kind``::

    Components = Annotated[RegistryComponents, Depends(components_dependency(...))]
    """

    def components(request: Request) -> C:
        return runtime_of(request).components_as(kind)

    return components


def uow_dependency(request: Request) -> UnitOfWork:
    """FastAPI dependency: a fresh unit of work of the service's class."""
    return runtime_of(request).uow_factory()
