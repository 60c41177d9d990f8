"""The composition root of svc-licensing: the use cases' context (clock, document keys, trust
in the national CA, the gateway) and the unit-of-work factory, built once at start, with the
event handlers wired to them; then the catalogue seed and the background loops. Entrypoints
reach the components through ``api/deps.py``; tests swap parts with ``runtime.customise``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import structlog

from egov_licensing.handlers import build_handlers
from egov_licensing.service_layer import services
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.services import UowFactory
from egov_licensing.settings import LicensingSettings
from meshkit.clock import Clock, SystemClock
from meshkit.service import Bootstrap, ServiceRuntime
from meshkit.trust import DocumentKeys, NationalTrust

log = structlog.get_logger("egov_licensing")


@dataclass(frozen=True)
class Components:
    context: LicensingContext
    uows: UowFactory


def bootstrap(*, clock: Clock | None = None) -> Bootstrap:
    """The service's bootstrap; ``clock`` is the one every rule reads (tests move it)."""

    async def build(runtime: ServiceRuntime) -> Components:
        settings = runtime.settings
        assert isinstance(settings, LicensingSettings)
        context = LicensingContext(
            settings=settings,
            clock=clock or SystemClock(),
            document_keys=DocumentKeys(
                subject="licensing",
                key_pem=settings.document_key_pem,
                chain_pem=settings.document_chain_pem,
            ),
            trust=NationalTrust(settings.identity_url, runtime.http),
            gateway=runtime.gateway_client,
        )
        # the runtime's uow factory makes units of work of LicensingUnitOfWork
        components = Components(context, cast(UowFactory, runtime.uow_factory))
        # handlers read the context of the components the service runs with (tests may have
        # swapped parts after this bootstrap), so they look them up per event
        runtime.handlers.merge(build_handlers(lambda: runtime.components_as(Components).context))
        return components

    return build


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


async def start(runtime: ServiceRuntime) -> None:
    components = runtime.components_as(Components)
    ctx, uows = components.context, components.uows
    s = ctx.settings
    # the catalogue is reference data the service cannot work without: seeded always,
    # inserting only the codes not yet present
    added = await services.seed_catalogue(uows())
    log.info("licensing.catalogue_seeded", added=added)
    if not ctx.document_keys.ready and s.dev_mode:
        runtime.spawn(ctx.document_keys.obtain_from_ca(runtime.gateway_client()), "ca-bootstrap")
    runtime.spawn(
        _every(s.sla_check_interval_s, "sla-watch", lambda: services.detect_overdue(ctx, uows)),
        "sla-watch",
    )
    runtime.spawn(
        _every(s.retry_interval_s, "retry-pending", lambda: services.retry_pending(ctx, uows)),
        "retry-pending",
    )
