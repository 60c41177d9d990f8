"""svc-identity: the state database of individuals, login, tokens and the national CA."""

from pathlib import Path

from fastapi import FastAPI

from egov_identity.api import routers
from egov_identity.handlers import handlers
from egov_identity.settings import IdentitySettings
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def definition(settings: IdentitySettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="identity",
        title="svc-identity — SDB Individuals",
        description="Persons keyed by IIN, authentication, tokens (JWKS), the national CA.",
        settings=settings or IdentitySettings(),
        migrations_dir=MIGRATIONS,
        routers=routers,
        handlers=handlers,
    )


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
