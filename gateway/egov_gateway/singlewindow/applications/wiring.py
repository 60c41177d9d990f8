"""Start and stop applications with the gateway (``on_startup``/``on_shutdown`` hooks).

Reads ``unified_register`` from ``runtime.extras``; tests may put an ``applications_caller``
(a :class:`~egov_gateway.singlewindow.applications.engine.StepCaller`) there before start,
otherwise the engine calls through the gateway's own routed exchange at ``MESH_GATEWAY_URL``
with the applicant's mandate (``egov_gateway.auth.mandate``), never a gateway credential.
"""

from __future__ import annotations

from typing import cast

import httpx

from egov_gateway.auth.mandate import issue_mandate
from egov_gateway.settings import GatewaySettings
from egov_gateway.singlewindow.applications.adapters.exchange import RoutedStepCaller
from egov_gateway.singlewindow.applications.engine import (
    ApplicationsUnitOfWork,
    ProcessEngine,
    StepCaller,
)
from egov_gateway.singlewindow.applications.service import Applications, register_engine
from egov_gateway.singlewindow.applications.settings import ApplicationsSettings
from meshkit.gateway_client import GatewayClient
from meshkit.messaging import UnitOfWorkFactory
from meshkit.service import ServiceRuntime


async def start_applications(runtime: ServiceRuntime) -> None:
    s = runtime.settings
    assert isinstance(s, GatewaySettings)
    options: ApplicationsSettings = s.applications
    factory = UnitOfWorkFactory(
        runtime.session_factory,
        source=s.source,
        topic=s.own_topic,
        uow_class=ApplicationsUnitOfWork,
        on_commit=runtime.uow_factory.on_commit,
    )

    def new_uow() -> ApplicationsUnitOfWork:
        return cast(ApplicationsUnitOfWork, factory())

    caller: StepCaller | None = runtime.extras.get("applications_caller")
    if caller is None:
        # no gateway credential at all: each step carries the applicant's mandate
        client = GatewayClient(
            s.gateway_url,
            client_code="gateway",
            timeout_s=options.call_timeout_s,
            transport=httpx.AsyncHTTPTransport(trust_env=False),
        )
        keyring = runtime.extras["keyring"]

        def mandate(*, applicant_iin: str, application_id: str, service_code: str) -> str:
            return issue_mandate(
                keyring.current,
                applicant_iin=applicant_iin,
                application_id=application_id,
                service_code=service_code,
            )

        caller = RoutedStepCaller(client, mandate)
        runtime.extras["applications_http"] = caller
    engine = ProcessEngine(new_uow, caller, options)
    register_engine(runtime.session_factory, engine)
    runtime.extras["applications"] = Applications(
        uows=new_uow,
        register=runtime.extras["unified_register"],
        engine=engine,
        clock=engine.clock,
    )
    if options.engine:
        runtime.spawn(engine.sweep_loop(), "applications-engine")


async def stop_applications(runtime: ServiceRuntime) -> None:
    ctx: Applications | None = runtime.extras.get("applications")
    if ctx is not None:
        await ctx.engine.stop()
    caller: RoutedStepCaller | None = runtime.extras.get("applications_http")
    if caller is not None:
        await caller.aclose()
