"""svc-payments contracts: invoices agencies create, and payment events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from meshkit.contracts.common import Currency, Tiyn
from meshkit.events import EventData, event_type
from meshkit.ids import IINOrBIN

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


# -- events --------------------------------------------------------------------------------
@event_type("kz.egov.payments.invoice.issued.v1", description="an invoice awaits payment")
class InvoiceIssued(EventData):
    invoice_id: str
    payer: str
    amount_tiyn: int
    kbk: str
    beneficiary_agency: str
    reference: str
    due_date: date


@event_type("kz.egov.payments.invoice.paid.v1", description="an invoice was paid in full")
class InvoicePaid(EventData):
    invoice_id: str
    payer: str
    amount_tiyn: int
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
    reference: str


@event_type("kz.egov.payments.payout.completed.v1", description="an agency paid a citizen")
class PayoutCompleted(EventData):
    payout_id: str
    agency: str
    recipient_iin: str
    amount_tiyn: int
    reference: str
    purpose: str
