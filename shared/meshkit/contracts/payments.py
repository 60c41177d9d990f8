"""svc-payments contracts: invoices agencies create, and payment events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from meshkit.contracts.common import Currency, Tiyn
from meshkit.events import EventData, event_type
from meshkit.ids import IIN, IINOrBIN

InvoiceStatus = Literal["issued", "paid", "cancelled", "expired", "refunded", "partially_refunded"]


# -- HTTP: POST /invoices (Idempotency-Key header), GET /invoices/{id} ----------------------
class InvoiceCreate(BaseModel):
    payer: IINOrBIN
    amount_tiyn: Tiyn = Field(gt=0, examples=[1_534_000])
    currency: Currency = "KZT"
    purpose: str = Field(min_length=1, max_length=300, examples=["State duty: LLP registration"])
    kbk: str = Field(
        pattern=r"^[0-9]{6}$", description="budget classification code", examples=["108114"]
    )
    beneficiary_agency: str = Field(min_length=2, max_length=50, examples=["registry"])
    due_date: date
    reference: str = Field(min_length=1, max_length=100, description="the agency's own reference")
    payer_representative_iin: IIN | None = Field(
        default=None,
        description="for an invoice to a BIN: the person (e.g. the director) who may see and pay it",
    )


class InvoiceOut(BaseModel):
    id: str
    payer: str
    amount_tiyn: int
    currency: Currency
    purpose: str
    kbk: str
    beneficiary_agency: str
    due_date: date
    reference: str
    status: InvoiceStatus
    paid_tiyn: int = 0
    refunded_tiyn: int = 0
    created_at: datetime
    paid_at: datetime | None = None
    payer_representative_iin: str | None = None
    refund_pending_tiyn: int = 0


# -- HTTP: payment sessions, cancel, refunds, payouts, reconciliation -----------------------
PaymentStatus = Literal["pending", "captured", "declined"]
RefundStatus = Literal["pending", "completed", "failed"]


class PaymentSessionOut(BaseModel):
    """``POST /invoices/{id}/payments``: where the payer completes the payment."""

    payment_id: str
    invoice_id: str
    amount_tiyn: int
    currency: Currency = "KZT"
    acquirer: str
    acquirer_payment_id: str
    payment_url: str
    status: PaymentStatus
    created_at: datetime


class InvoiceCancel(BaseModel):
    reason: str = Field(default="cancelled by the beneficiary agency", min_length=1, max_length=300)


class RefundCreate(BaseModel):
    amount_tiyn: Tiyn = Field(gt=0)
    reason: str = Field(min_length=1, max_length=300)


class RefundOut(BaseModel):
    id: str
    invoice_id: str
    payment_id: str
    amount_tiyn: int
    currency: Currency = "KZT"
    reason: str
    status: RefundStatus
    created_at: datetime
    completed_at: datetime | None = None


class PayoutCreate(BaseModel):
    """``POST /payouts`` (``Idempotency-Key`` header): an agency pays a citizen."""

    recipient_iin: IIN
    amount_tiyn: Tiyn = Field(gt=0, examples=[14_734_400])
    currency: Currency = "KZT"
    kbk: str = Field(pattern=r"^[0-9]{6}$", description="the budget account paid from")
    purpose: str = Field(min_length=1, max_length=300, examples=["One-time birth allowance"])
    reference: str = Field(min_length=1, max_length=100, description="the agency's own reference")


AllowanceKind = Literal["childbirth", "funeral"]


class AllowanceClaim(BaseModel):
    """``POST /allowances`` (``Idempotency-Key`` header): a citizen claims a state allowance
    for themself. The recipient is always the calling citizen (never a field); the amount and
    the budget line are payments' own reference data. Paid at most once per kind and subject.
    """

    model_config = ConfigDict(extra="forbid")

    kind: AllowanceKind = Field(
        description="childbirth: the caller is the child's mother or father (svc-identity); "
        "funeral: the death is registered (svc-registry)"
    )
    subject_iin: IIN = Field(description="the child (childbirth) or the deceased (funeral)")
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the caller's reference, e.g. the birth or death act number",
        examples=["B-2026-0000001"],
    )


class PayoutOut(BaseModel):
    id: str
    agency: str
    recipient_iin: str
    amount_tiyn: int
    currency: Currency = "KZT"
    kbk: str
    purpose: str
    reference: str
    status: Literal["completed"]
    created_at: datetime
    allowance_kind: AllowanceKind | None = Field(
        default=None, description="set when the payout is a state allowance (POST /allowances)"
    )
    subject_iin: str | None = Field(
        default=None, description="the allowance's subject: the child or the deceased"
    )


class ReconciliationLine(BaseModel):
    agency: str
    kbk: str
    payments_count: int = 0
    payments_tiyn: int = 0
    refunds_count: int = 0
    refunds_tiyn: int = 0
    payouts_count: int = 0
    payouts_tiyn: int = 0


class ReconciliationMismatch(BaseModel):
    kind: Literal["payment", "refund"]
    reference: str = Field(description="our payment or refund id")
    acquirer: str
    acquirer_tiyn: int | None = None
    ledger_tiyn: int | None = None
    problem: Literal["missing_in_ledger", "missing_at_acquirer", "amount_differs"]


class ReconciliationReport(BaseModel):
    date: date
    timezone: str
    lines: list[ReconciliationLine]
    payments_count: int
    refunds_count: int
    payouts_count: int
    acquirer_payments_tiyn: int
    acquirer_refunds_tiyn: int
    ledger_payments_tiyn: int
    ledger_refunds_tiyn: int
    mismatches: list[ReconciliationMismatch]
    ledger_balanced: bool = Field(description="the sum of every entry ever posted is zero")


# -- events --------------------------------------------------------------------------------
@event_type("kz.egov.payments.invoice.issued.v1", description="an invoice awaits payment")
class InvoiceIssued(EventData):
    invoice_id: str
    payer: str
    amount_tiyn: int
    currency: Currency = Field(default="KZT", description="always KZT (DESIGN §3)")
    kbk: str
    beneficiary_agency: str
    reference: str
    due_date: date


@event_type("kz.egov.payments.invoice.paid.v1", description="an invoice was paid in full")
class InvoicePaid(EventData):
    invoice_id: str
    payer: str
    amount_tiyn: int
    currency: Currency = Field(default="KZT", description="always KZT (DESIGN §3)")
    beneficiary_agency: str
    reference: str
    paid_at: datetime


@event_type("kz.egov.payments.invoice.cancelled.v1", description="an invoice was cancelled")
class InvoiceCancelled(EventData):
    invoice_id: str
    reference: str
    reason: str


@event_type(
    "kz.egov.payments.invoice.expired.v1", description="an invoice passed its due date unpaid"
)
class InvoiceExpired(EventData):
    invoice_id: str
    reference: str


@event_type("kz.egov.payments.refund.completed.v1", description="money went back to the payer")
class RefundCompleted(EventData):
    refund_id: str
    invoice_id: str
    amount_tiyn: int
    currency: Currency = Field(default="KZT", description="always KZT (DESIGN §3)")
    reference: str


@event_type("kz.egov.payments.payout.completed.v1", description="an agency paid a citizen")
class PayoutCompleted(EventData):
    payout_id: str
    agency: str
    recipient_iin: str
    amount_tiyn: int
    currency: Currency = Field(default="KZT", description="always KZT (DESIGN §3)")
    reference: str
    purpose: str
