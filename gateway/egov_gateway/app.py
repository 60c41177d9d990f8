"""The e-government gateway: unified service register, routed exchange, audit, single window."""

from pathlib import Path

from fastapi import FastAPI

from egov_gateway.api import routers
from egov_gateway.api.exchange import fast_routes
from egov_gateway.handlers import handlers
from egov_gateway.register.bootstrap import start_register, stop_register
from egov_gateway.routing import source
from egov_gateway.routing.wiring import start_exchange, stop_exchange
from egov_gateway.settings import GatewaySettings
from egov_gateway.singlewindow.applications.wiring import (
    start_applications,
    stop_applications,
)
from egov_gateway.singlewindow.notifications.wiring import start_notifications
from meshkit.auth.keys import KeyRing, public_jwks_from_pem
from meshkit.service import ServiceDefinition, ServiceRuntime, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


async def load_keys(runtime: ServiceRuntime) -> None:
    s = runtime.settings
    assert isinstance(s, GatewaySettings)
    ring = KeyRing.load(
        pem=s.signing_key_pem,
        pem_file=s.signing_key_file,
        dev_mode=s.dev_mode,
        dev_path=s.data_dir / "keys" / "gateway-assertion.pem",
        what="gateway assertion signing key (GATEWAY_SIGNING_KEY_PEM)",
    )
    # rotation: the next key is published before any replica signs with it, the previous
    # one until no replica does (deploy/RUNBOOK.md §3.1)
    extra = s.additional_public_keys_pem or ""
    if s.additional_public_keys_file:
        extra += "\n" + s.additional_public_keys_file.read_text()
    try:
        retired = public_jwks_from_pem(extra)
    except ValueError as exc:
        raise RuntimeError(f"GATEWAY_ADDITIONAL_PUBLIC_KEYS_PEM/_FILE: {exc}") from exc
    ring.retired = [jwk for jwk in retired if jwk["kid"] != ring.current.kid]
    runtime.extras["keyring"] = ring


def definition(settings: GatewaySettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="gateway",
        title="egov-mesh e-government gateway",
        description="Unified Register of public services, routed exchange between agencies, "
        "audit, and the citizens' single window.",
        settings=settings or GatewaySettings(),
        migrations_dir=MIGRATIONS,
        routers=routers,
        handlers=handlers,
        on_startup=[
            load_keys,
            start_register,
            start_exchange,
            start_applications,
            start_notifications,
        ],
        on_shutdown=[stop_applications, stop_exchange, stop_register],
        verify_gateway_assertion=False,
        fast_routes=fast_routes,
    )


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    app = create_service_app(definition(settings))
    source.install(app)  # per-source limits before authentication (routing/source.py)
    return app
