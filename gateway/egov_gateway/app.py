"""The e-government gateway: unified service register, routed exchange, audit, single window."""

from pathlib import Path

from fastapi import FastAPI

from egov_gateway.api import dev_routers, routers
from egov_gateway.api.exchange import fast_routes
from egov_gateway.bootstrap import (
    Overrides,
    bootstrap,
    exchange_of,
    start_loops,
    stop_gateway,
)
from egov_gateway.exchange.service_layer import source
from egov_gateway.handlers import handlers
from egov_gateway.settings import GatewaySettings
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def definition(
    settings: GatewaySettings | None = None, overrides: Overrides | None = None
) -> ServiceDefinition:
    settings = settings or GatewaySettings()
    return ServiceDefinition(
        name="gateway",
        title="egov-mesh e-government gateway",
        description="Unified Register of public services, routed exchange between agencies, "
        "audit, and the citizens' single window.",
        settings=settings,
        migrations_dir=MIGRATIONS,
        # dev routers before the portal's and the exchange's paths (none overlap)
        routers=[*(dev_routers if settings.dev_mode else []), *routers],
        handlers=handlers,
        bootstrap=bootstrap(overrides or Overrides()),
        on_startup=[start_loops],
        on_shutdown=[stop_gateway],
        verify_gateway_assertion=False,
        fast_routes=fast_routes,
    )


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    overrides = Overrides()  # tests put parts in place before start (bootstrap.overrides_of)
    app = create_service_app(definition(settings, overrides))
    app.state.gateway_overrides = overrides
    # per-source limits before authentication (exchange/service_layer/source.py)
    source.install(app, exchange_of)
    return app
