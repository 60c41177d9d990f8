"""svc-payments — payment gateway: Invoices for state fees, duties and fines; payments, refunds, payouts; a double-entry ledger."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import structlog
from fastapi import APIRouter, FastAPI

from egov_payments.adapters.facts_gateway import GatewayFacts
from egov_payments.adapters.sandbox_acquirer import SandboxAcquirer
from egov_payments.api import routers
from egov_payments.domain.acquirer import Acquirer
from egov_payments.handlers import make_handlers
from egov_payments.sandbox_acquirer.bank import SandboxBank
from egov_payments.sandbox_acquirer.router import router as sandbox_router
from egov_payments.seed import seed_budgets
from egov_payments.service_layer import services
from egov_payments.service_layer.clock import Clock
from egov_payments.service_layer.services import Policy, UowFactory
from egov_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from egov_payments.settings import PaymentsSettings
from meshkit.service import ServiceDefinition, ServiceRuntime, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
log = structlog.get_logger("payments")


def _settings(runtime: ServiceRuntime) -> PaymentsSettings:
    return cast(PaymentsSettings, runtime.settings)


async def start_payments(runtime: ServiceRuntime) -> None:
    s = _settings(runtime)
    clock = Clock(s.business_utc_offset_hours)
    uows = cast(UowFactory, runtime.uow_factory)
    runtime.extras["clock"] = clock
    runtime.extras["policy"] = Policy(
        issuers_for_any_agency=frozenset(s.invoice_issuers_for_any_agency),
        operators=frozenset(s.report_operators),
    )
    bank: SandboxBank | None = None
    if s.sandbox.enabled:
        public = (s.sandbox.public_url or s.effective_public_url).rstrip("/")
        bank = SandboxBank(
            s.sandbox,
            runtime.session_factory,
            secret=s.effective_sandbox_secret,
            callback_url=s.sandbox.callback_url or f"{s.effective_public_url}/acquirer/callbacks",
            public_url=public,
            http=runtime.http,
        )
        runtime.extras["sandbox_bank"] = bank
    acquirers: dict[str, Acquirer] = {
        s.sandbox.code: SandboxAcquirer(
            bank,
            code=s.sandbox.code,
            secret=s.effective_acquirer_secret,
            replay_window_s=s.callback_replay_window_s,
        )
    }
    runtime.extras["acquirers"] = acquirers
    # eligibility for allowances: asked of identity and registry through the gateway
    runtime.extras["allowance_facts"] = GatewayFacts(runtime.gateway_client)
    if s.effective_acquirer_secret is None:
        log.warning("payments.no_acquirer_secret", hint="set PAYMENTS_ACQUIRER_HMAC_SECRET")
    if s.dev_mode:
        await seed_budgets(uows, clock, s.seed_budget_tiyn)

    async def expiry_loop() -> None:
        while True:
            try:
                await services.expire_overdue(uows, clock=clock)
            except Exception:  # a failing pass is retried at the next tick
                log.exception("payments.expiry_failed")
            await asyncio.sleep(s.expiry_interval_s)

    runtime.spawn(expiry_loop(), "invoice-expiry")


async def stop_payments(runtime: ServiceRuntime) -> None:
    bank = runtime.extras.get("sandbox_bank")
    if isinstance(bank, SandboxBank):
        await bank.aclose()


def definition(settings: PaymentsSettings | None = None) -> ServiceDefinition:
    s = settings or PaymentsSettings()
    all_routers: list[APIRouter] = list(routers)
    if s.sandbox.enabled:
        all_routers.append(sandbox_router)
    return ServiceDefinition(
        name="payments",
        title="svc-payments — payment gateway",
        description="Invoices for state fees, duties and fines; payments, refunds, payouts; "
        "a double-entry ledger. `/acquirer/callbacks` is called by the bank (HMAC-signed), "
        "`/sandbox-acquirer/*` is the built-in test bank; everything else is routed through "
        "the gateway.",
        settings=s,
        migrations_dir=MIGRATIONS,
        routers=all_routers,
        handlers=make_handlers(s),
        uow_class=PaymentsUnitOfWork,
        on_startup=[start_payments],
        on_shutdown=[stop_payments],
    )


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
