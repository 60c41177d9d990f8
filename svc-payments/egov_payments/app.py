"""svc-payments — payment gateway: Invoices for state fees, duties and fines; payments, refunds, payouts; a double-entry ledger."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from egov_payments.api import routers
from egov_payments.bootstrap import bootstrap, start, stop
from egov_payments.handlers import make_handlers
from egov_payments.sandbox_acquirer.router import router as sandbox_router
from egov_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from egov_payments.settings import PaymentsSettings
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


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
        bootstrap=bootstrap,
        on_startup=[start],
        on_shutdown=[stop],
    )


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
