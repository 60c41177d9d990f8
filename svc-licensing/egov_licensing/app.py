"""svc-licensing — e-licensing: license types, license applications and licenses."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from egov_licensing.api import routers
from egov_licensing.bootstrap import bootstrap, start
from egov_licensing.service_layer.unit_of_work import LicensingUnitOfWork
from egov_licensing.settings import LicensingSettings
from meshkit.clock import Clock
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def definition(
    settings: LicensingSettings | None = None, *, clock: Clock | None = None
) -> ServiceDefinition:
    return ServiceDefinition(
        name="licensing",
        title="svc-licensing — e-licensing",
        description="License types, license applications (checks, state duty, officer "
        "decisions, SLA in working days) and licenses (signed documents, public verification, "
        "suspension and revocation).",
        settings=settings or LicensingSettings(),
        migrations_dir=MIGRATIONS,
        routers=routers,
        uow_class=LicensingUnitOfWork,
        # the event handlers are wired by the bootstrap, to the components it builds
        bootstrap=bootstrap(clock=clock),
        on_startup=[start],
    )


def create_app(settings: LicensingSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    return create_service_app(definition(settings, clock=clock))
