"""Wiring of the register into the gateway's runtime (start/stop hooks).

The routed exchange finds the register as ``runtime.extras["register"]`` (a
:class:`~egov_gateway.domain.register_port.RegisterPort`). Tests may put an httpx transport
in ``runtime.extras["register_transport"]`` before start to serve the agencies in-process.
"""

from __future__ import annotations

from typing import cast

from fastapi import Request

from egov_gateway.register.adapters.agencies import AgencyClient
from egov_gateway.register.seed import default_agency_urls
from egov_gateway.register.service_layer.register import UnifiedRegister
from egov_gateway.register.service_layer.unit_of_work import RegisterUnitOfWork
from egov_gateway.settings import GatewaySettings
from meshkit.devsecrets import dev_secret
from meshkit.messaging import UnitOfWorkFactory
from meshkit.service import ServiceRuntime


def effective_agency_urls(s: GatewaySettings) -> dict[str, str]:
    return {**default_agency_urls(), **{k.lower(): v for k, v in s.agency_urls.items()}}


async def start_register(runtime: ServiceRuntime) -> None:
    s = runtime.settings
    assert isinstance(s, GatewaySettings)
    runtime.extras["admin_token"] = s.admin_token or (
        dev_secret("gateway-admin", s.data_dir) if s.dev_mode else None
    )
    factory = UnitOfWorkFactory(
        runtime.session_factory,
        source=s.source,
        topic=s.own_topic,
        uow_class=RegisterUnitOfWork,
        on_commit=runtime.uow_factory.on_commit,
    )
    agencies = AgencyClient(
        transport=runtime.extras.get("register_transport"),
        timeout_s=s.register_options.probe_timeout_s,
    )

    def new_uow() -> RegisterUnitOfWork:
        return cast(RegisterUnitOfWork, factory())

    register = UnifiedRegister(new_uow, agencies, s.register_options)
    await register.start(effective_agency_urls(s), explicit_urls={k.lower() for k in s.agency_urls})
    runtime.extras["unified_register"] = register
    # a static register (GATEWAY_REGISTER_FILE) or a RegisterPort wired before start (tests of
    # the exchange) keeps routing; the register API still serves the Unified Register
    if s.register_file is None:
        runtime.extras.setdefault("register", register)
    if s.register_options.background:
        runtime.spawn(register.openapi_loop(), "register-openapi")
        runtime.spawn(register.probe_loop(), "register-probe")
        runtime.spawn(register.reload_loop(), "register-reload")


async def stop_register(runtime: ServiceRuntime) -> None:
    register = runtime.extras.get("unified_register")
    if isinstance(register, UnifiedRegister):
        await register.aclose()


def register_of(request: Request) -> UnifiedRegister:
    """FastAPI dependency: the running register."""
    register: UnifiedRegister = request.app.state.runtime.extras["unified_register"]
    return register
