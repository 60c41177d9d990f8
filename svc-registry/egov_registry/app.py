"""svc-registry — state registers: Civil-status acts, legal entities (BIN), real estate, issued certificates."""

from pathlib import Path

from fastapi import FastAPI

from egov_registry.api import routers
from egov_registry.bootstrap import bootstrap, start
from egov_registry.handlers import handlers
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from egov_registry.settings import RegistrySettings
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def definition(settings: RegistrySettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="registry",
        title="svc-registry — state registers",
        description="Civil-status acts, legal entities (BIN), real estate, issued certificates.",
        settings=settings or RegistrySettings(),
        migrations_dir=MIGRATIONS,
        routers=routers,
        handlers=handlers,
        uow_class=RegistryUnitOfWork,
        bootstrap=bootstrap,
        on_startup=[start],
    )


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
