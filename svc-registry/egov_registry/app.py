"""svc-registry — state registers: Civil-status acts, legal entities (BIN), real estate, issued certificates."""

from pathlib import Path

from fastapi import FastAPI

from egov_registry.api import routers
from egov_registry.components import build_components, components_of
from egov_registry.handlers import handlers
from egov_registry.seed import seed_demo_data
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from egov_registry.settings import RegistrySettings
from meshkit.service import ServiceDefinition, ServiceRuntime, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


async def _start(runtime: ServiceRuntime) -> None:
    components = components_of(runtime)
    if runtime.settings.dev_mode:
        await seed_demo_data(runtime.uow_factory)
        if not components.keys.ready:
            # dev: have the national CA certify a fresh key (retries until identity answers)
            runtime.spawn(components.keys.obtain_from_ca(runtime.gateway_client()), "ca-bootstrap")


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
        on_startup=[_start],
    )


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    app = create_service_app(definition(settings))
    build_components(app.state.runtime)
    return app
