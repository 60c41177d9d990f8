"""svc-identity: the state database of individuals, login, tokens and the national CA."""

from pathlib import Path

from fastapi import FastAPI

from egov_identity.api import dev_routers, routers
from egov_identity.bootstrap import bootstrap, start_identity, stop_identity
from egov_identity.handlers import handlers
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from egov_identity.settings import IdentitySettings
from meshkit.clock import Clock
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

TAGS = [
    {"name": "persons", "description": "SDB Individuals (routed through the gateway)"},
    {"name": "consents", "description": "Citizens' consents to agencies (routed)"},
    {"name": "national CA", "description": "Certificates from CSRs, status, verification"},
    {"name": "issuer", "description": "OpenID-style issuer: JWKS, OAuth2 token endpoint"},
    {"name": "citizen login", "description": "Password + SMS code, digital signature"},
    {"name": "administration", "description": "Agency clients, key rotation (admin token)"},
]


def definition(
    settings: IdentitySettings | None = None, *, clock: Clock | None = None
) -> ServiceDefinition:
    settings = settings or IdentitySettings()
    return ServiceDefinition(
        name="identity",
        title="svc-identity — SDB Individuals",
        description="Persons keyed by IIN, authentication, tokens (JWKS), the national CA.",
        settings=settings,
        migrations_dir=MIGRATIONS,
        routers=[*routers, *(dev_routers if settings.dev_mode else [])],
        handlers=handlers,
        uow_class=IdentityUnitOfWork,
        bootstrap=bootstrap(clock=clock),
        on_startup=[start_identity],
        on_shutdown=[stop_identity],
        openapi_tags=TAGS,
    )


def create_app(settings: IdentitySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    return create_service_app(definition(settings, clock=clock))
