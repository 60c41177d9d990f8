"""svc-notary — e-notary: Notaries and notarial acts: powers of attorney, property sales, copy certification."""

from pathlib import Path

from fastapi import FastAPI

from egov_notary.api import routers
from egov_notary.bootstrap import bootstrap
from egov_notary.handlers import handlers
from egov_notary.seed import seed_demo_data
from egov_notary.service_layer.unit_of_work import NotaryUnitOfWork
from egov_notary.settings import NotarySettings
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def definition(settings: NotarySettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="notary",
        title="svc-notary — e-notary",
        description="Notaries and notarial acts: powers of attorney, property sales, copy certification.",
        settings=settings or NotarySettings(),
        migrations_dir=MIGRATIONS,
        routers=routers,
        handlers=handlers,
        uow_class=NotaryUnitOfWork,
        bootstrap=bootstrap,
        on_startup=[seed_demo_data],
        openapi_tags=[
            {"name": "notaries", "description": "The registry of licensed notaries"},
            {"name": "notarial acts", "description": "Draft, check, sign, register, revoke"},
            {
                "name": "public verification",
                "description": "PUBLIC: verify an act by its number and verification code",
            },
        ],
    )


def create_app(settings: NotarySettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
