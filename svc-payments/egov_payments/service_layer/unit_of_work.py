"""The payments unit of work: one transaction, its repositories and its outbox rows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from egov_payments.adapters import orm
from egov_payments.adapters.repository import (
    AcquirerEventRepository,
    InvoiceRepository,
    LedgerRepository,
    PaymentRepository,
    PayoutRepository,
    RefundRepository,
)
from meshkit.idempotency import IdempotencyKeys
from meshkit.messaging import UnitOfWork


class PaymentsUnitOfWork(UnitOfWork):
    invoices: InvoiceRepository
    payments: PaymentRepository
    refunds: RefundRepository
    payouts: PayoutRepository
    ledger: LedgerRepository
    idempotency: IdempotencyKeys
    acquirer_events: AcquirerEventRepository

    def init_repositories(self, session: AsyncSession) -> None:
        self.invoices = InvoiceRepository(session)
        self.payments = PaymentRepository(session)
        self.refunds = RefundRepository(session)
        self.payouts = PayoutRepository(session)
        self.ledger = LedgerRepository(session)
        self.idempotency = IdempotencyKeys(session, orm.idempotency_keys)
        self.acquirer_events = AcquirerEventRepository(session)
