"""The composition root of svc-payments: the business clock, the policy from settings, the
acquirers (the built-in sandbox bank when enabled) and the allowance facts port, built once at
start; then the dev seed and the invoice-expiry loop. Entrypoints reach the components through
``api/deps.py``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import cast

import structlog

from egov_payments.adapters.facts_gateway import GatewayFacts
from egov_payments.adapters.sandbox_acquirer import SandboxAcquirer
from egov_payments.domain.acquirer import Acquirer
from egov_payments.sandbox_acquirer.bank import SandboxBank
from egov_payments.seed import seed_budgets
from egov_payments.service_layer import services
from egov_payments.service_layer.services import AllowanceFacts, Policy, UowFactory
from egov_payments.settings import PaymentsSettings
from meshkit.clock import BusinessClock
from meshkit.service import ServiceRuntime

log = structlog.get_logger("payments")


@dataclass(frozen=True)
class Components:
    settings: PaymentsSettings
    clock: BusinessClock
    policy: Policy
    uows: UowFactory = field(repr=False)
    #: by acquirer code
    acquirers: dict[str, Acquirer]
    #: eligibility for allowances: asked of identity and registry through the gateway
    facts: AllowanceFacts
    #: the built-in test bank, when enabled
    bank: SandboxBank | None


async def bootstrap(runtime: ServiceRuntime) -> Components:
    s = runtime.settings
    assert isinstance(s, PaymentsSettings)
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
    acquirers: dict[str, Acquirer] = {
        s.sandbox.code: SandboxAcquirer(
            bank,
            code=s.sandbox.code,
            secret=s.effective_acquirer_secret,
            replay_window_s=s.callback_replay_window_s,
        )
    }
    if s.effective_acquirer_secret is None:
        log.warning("payments.no_acquirer_secret", hint="set PAYMENTS_ACQUIRER_HMAC_SECRET")
    return Components(
        settings=s,
        clock=BusinessClock(s.business_utc_offset_hours),
        policy=Policy(
            issuers_for_any_agency=frozenset(s.invoice_issuers_for_any_agency),
            operators=frozenset(s.report_operators),
        ),
        # the runtime's uow factory makes units of work of PaymentsUnitOfWork
        uows=cast(UowFactory, runtime.uow_factory),
        acquirers=acquirers,
        facts=GatewayFacts(runtime.gateway_client),
        bank=bank,
    )


async def start(runtime: ServiceRuntime) -> None:
    c = runtime.components_as(Components)
    if c.settings.dev_mode:
        await seed_budgets(c.uows, c.clock, c.settings.seed_budget_tiyn)

    async def expiry_loop() -> None:
        while True:
            try:
                await services.expire_overdue(c.uows, clock=c.clock)
            except Exception:  # a failing pass is retried at the next tick
                log.exception("payments.expiry_failed")
            await asyncio.sleep(c.settings.expiry_interval_s)

    runtime.spawn(expiry_loop(), "invoice-expiry")


async def stop(runtime: ServiceRuntime) -> None:
    if isinstance(c := runtime.components, Components) and c.bank is not None:
        await c.bank.aclose()
