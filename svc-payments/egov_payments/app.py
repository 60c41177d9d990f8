"""svc-payments — payment gateway: Invoices for state fees, duties and fines; payments, refunds, payouts; a double-entry ledger."""

from pathlib import Path

from fastapi import FastAPI

from egov_payments.api import routers
from egov_payments.handlers import handlers
from egov_payments.settings import PaymentsSettings
from meshkit.service import ServiceDefinition, create_service_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def definition(settings: PaymentsSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="payments",
        title="svc-payments — payment gateway",
        description="Invoices for state fees, duties and fines; payments, refunds, payouts; a double-entry ledger.",
        settings=settings or PaymentsSettings(),
        migrations_dir=MIGRATIONS,
        routers=routers,
        handlers=handlers,
    )


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings))
