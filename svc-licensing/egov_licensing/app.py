"""svc-licensing — e-licensing: License types, license applications and licenses."""

from pathlib import Path

from fastapi import FastAPI

from egov_licensing.api import routers
from egov_licensing.handlers import handlers
from egov_licensing.settings import LicensingSettings
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def definition(settings: LicensingSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="licensing",
        title="svc-licensing — e-licensing",
        description="License types, license applications and licenses.",
        settings=settings or LicensingSettings(),
        migrations_dir=MIGRATIONS,
        routers=routers,
        handlers=handlers,
    )


def create_app(settings: LicensingSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
