"""svc-licensing — e-licensing: license types, license applications and licenses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog
from fastapi import FastAPI

from egov_licensing.api import routers
from egov_licensing.clock import Clock
from egov_licensing.handlers import build_handlers
from egov_licensing.service_layer import services
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.services import UowFactory
from egov_licensing.service_layer.unit_of_work import LicensingUnitOfWork
from egov_licensing.settings import LicensingSettings
from meshkit.service import ServiceDefinition, ServiceRuntime, create_service_app
from meshkit.trust import NationalTrust

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
log = structlog.get_logger("egov_licensing")


def _uows(runtime: ServiceRuntime) -> UowFactory:
    def make() -> LicensingUnitOfWork:
        uow = runtime.uow_factory()
        assert isinstance(uow, LicensingUnitOfWork)
        return uow

    return make


async def _every(interval_s: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
    """Run ``job`` every ``interval_s`` for the life of the service; a failure is logged."""
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be restarting: try again next round
            log.warning("licensing.background_failed", job=name, error=repr(exc)[:300])
        await asyncio.sleep(interval_s)


def _startup(ctx: LicensingContext) -> Callable[[ServiceRuntime], Awaitable[None]]:
    async def start(runtime: ServiceRuntime) -> None:
        s = ctx.settings
        uows = _uows(runtime)
        if ctx.gateway_factory is None:
            ctx.gateway_factory = runtime.gateway_client
        if ctx.trust is None:
            ctx.trust = NationalTrust(s.identity_url, runtime.http)
        # the catalogue is reference data the service cannot work without: seeded always,
        # inserting only the codes not yet present
        added = await services.seed_catalogue(uows())
        log.info("licensing.catalogue_seeded", added=added)
        if not ctx.document_keys.ready and s.dev_mode:
            runtime.spawn(
                ctx.document_keys.obtain_from_ca(runtime.gateway_client()), "ca-bootstrap"
            )
        runtime.spawn(
            _every(s.sla_check_interval_s, "sla-watch", lambda: services.detect_overdue(ctx, uows)),
            "sla-watch",
        )
        runtime.spawn(
            _every(s.retry_interval_s, "retry-pending", lambda: services.retry_pending(ctx, uows)),
            "retry-pending",
        )

    return start


def definition(
    settings: LicensingSettings | None = None, context: LicensingContext | None = None
) -> ServiceDefinition:
    settings = settings or LicensingSettings()
    ctx = context or LicensingContext(settings)
    return ServiceDefinition(
        name="licensing",
        title="svc-licensing — e-licensing",
        description="License types, license applications (checks, state duty, officer "
        "decisions, SLA in working days) and licenses (signed documents, public verification, "
        "suspension and revocation).",
        settings=settings,
        migrations_dir=MIGRATIONS,
        routers=routers,
        handlers=build_handlers(ctx),
        uow_class=LicensingUnitOfWork,
        on_startup=[_startup(ctx)],
    )


def create_app(settings: LicensingSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or LicensingSettings()
    ctx = LicensingContext(settings)
    if clock is not None:
        ctx.clock = clock
    app = create_service_app(definition(settings, ctx))
    app.state.licensing = ctx
    return app
