"""Invoices, payments, refunds and payouts — the payments domain's aggregates and rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from meshkit.errors import Conflict, PermissionDenied, RuleViolation

InvoiceStatus = Literal["issued", "paid", "cancelled", "expired", "refunded", "partially_refunded"]
PaymentStatus = Literal["pending", "captured", "declined"]
RefundStatus = Literal["pending", "completed", "failed"]

CURRENCY = "KZT"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass
class Invoice:
    """A demand for money from a payer to an agency's budget line (KBK).

    issued → paid | cancelled | expired; after paid: partially_refunded → refunded.
    """

    id: str
    payer: str
    amount_tiyn: int
    purpose: str
    kbk: str
    beneficiary_agency: str
    due_date: date
    reference: str
    created_at: datetime
    status: InvoiceStatus = "issued"
    currency: str = CURRENCY
    payer_representative_iin: str | None = None
    paid_tiyn: int = 0
    refunded_tiyn: int = 0
    refund_pending_tiyn: int = 0
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    #: the process the invoice was issued for (a single-window application's id, or the
    #: issuing request's): every later event of the invoice — paid at the bank, refunded,
    #: expired — belongs to it too (DESIGN §5). None: issued before it was kept.
    correlation_id: str | None = None

    @classmethod
    def issue(
        cls,
        *,
        payer: str,
        amount_tiyn: int,
        purpose: str,
        kbk: str,
        beneficiary_agency: str,
        due_date: date,
        reference: str,
        now: datetime,
        today: date,
        payer_representative_iin: str | None = None,
        correlation_id: str | None = None,
    ) -> Invoice:
        if amount_tiyn <= 0:
            raise RuleViolation("amount must be positive", errors={"amount_tiyn": "must be > 0"})
        if due_date < today:
            raise RuleViolation(
                "the due date is in the past", errors={"due_date": "must be today or later"}
            )
        return cls(
            id=new_id("inv"),
            payer=payer,
            amount_tiyn=amount_tiyn,
            purpose=purpose,
            kbk=kbk,
            beneficiary_agency=beneficiary_agency,
            due_date=due_date,
            reference=reference,
            created_at=now,
            payer_representative_iin=payer_representative_iin,
            correlation_id=correlation_id,
        )

    # -- who may do what ---------------------------------------------------------------------
    def is_payer(self, iin: str | None) -> bool:
        return iin is not None and iin in (self.payer, self.payer_representative_iin)

    def require_beneficiary(self, agency: str) -> None:
        if agency != self.beneficiary_agency:
            raise PermissionDenied(f"only {self.beneficiary_agency} may do this to the invoice")

    # -- lifecycle ----------------------------------------------------------------------------
    def require_payable(self, today: date) -> None:
        if self.status != "issued":
            raise Conflict(f"invoice {self.id} is {self.status}, it cannot be paid")
        if self.due_date < today:
            raise RuleViolation(f"invoice {self.id} was due on {self.due_date}")

    def mark_paid(self, amount_tiyn: int, at: datetime, *, paid_on: date) -> None:
        """The acquirer captured the payer's money on ``paid_on`` (the payer's business day).

        A callback may arrive after the expiry loop closed the invoice; if the payer paid by
        the due date, the payment stands and the invoice is paid (a late bank is not the
        payer's fault). A cancelled invoice is never paid.
        """
        late_but_in_time = self.status == "expired" and paid_on <= self.due_date
        if self.status != "issued" and not late_but_in_time:
            raise Conflict(f"invoice {self.id} is {self.status}, it cannot be paid")
        if amount_tiyn != self.amount_tiyn:
            raise RuleViolation(
                f"payment of {amount_tiyn} tiyn does not match the invoice ({self.amount_tiyn})"
            )
        self.status = "paid"
        self.paid_tiyn = amount_tiyn
        self.paid_at = at
        self.closed_at = None

    def cancel(self, at: datetime) -> None:
        if self.status != "issued":
            raise Conflict(f"invoice {self.id} is {self.status}, only an issued one is cancelled")
        self.status = "cancelled"
        self.closed_at = at

    def is_overdue(self, today: date) -> bool:
        return self.status == "issued" and self.due_date < today

    def expire(self, at: datetime, today: date) -> None:
        if not self.is_overdue(today):
            raise Conflict(f"invoice {self.id} is not overdue")
        self.status = "expired"
        self.closed_at = at

    @property
    def refundable_tiyn(self) -> int:
        return self.paid_tiyn - self.refunded_tiyn - self.refund_pending_tiyn

    def reserve_refund(self, amount_tiyn: int) -> None:
        if self.status not in ("paid", "partially_refunded", "refunded"):
            raise Conflict(f"invoice {self.id} is {self.status}; only a paid one is refunded")
        if amount_tiyn <= 0:
            raise RuleViolation("amount must be positive", errors={"amount_tiyn": "must be > 0"})
        if amount_tiyn > self.refundable_tiyn:
            raise RuleViolation(
                f"refund of {amount_tiyn} tiyn exceeds what can still be refunded "
                f"({self.refundable_tiyn} tiyn: paid {self.paid_tiyn}, refunded "
                f"{self.refunded_tiyn}, pending {self.refund_pending_tiyn})",
                errors={"amount_tiyn": f"at most {self.refundable_tiyn}"},
                code="refund-exceeds-paid",
            )
        self.refund_pending_tiyn += amount_tiyn

    def complete_refund(self, amount_tiyn: int) -> None:
        assert 0 < amount_tiyn <= self.refund_pending_tiyn, "refund was reserved"
        self.refund_pending_tiyn -= amount_tiyn
        self.refunded_tiyn += amount_tiyn
        self.status = "refunded" if self.refunded_tiyn == self.paid_tiyn else "partially_refunded"

    def release_refund(self, amount_tiyn: int) -> None:
        assert 0 < amount_tiyn <= self.refund_pending_tiyn, "refund was reserved"
        self.refund_pending_tiyn -= amount_tiyn


@dataclass
class Payment:
    """One attempt of the payer to pay an invoice at an acquirer."""

    id: str
    invoice_id: str
    acquirer: str
    amount_tiyn: int
    created_at: datetime
    status: PaymentStatus = "pending"
    acquirer_payment_id: str | None = None
    payment_url: str | None = None
    completed_at: datetime | None = None

    @classmethod
    def start(cls, invoice: Invoice, *, acquirer: str, now: datetime) -> Payment:
        return cls(
            id=new_id("pay"),
            invoice_id=invoice.id,
            acquirer=acquirer,
            amount_tiyn=invoice.amount_tiyn,
            created_at=now,
        )

    def capture(self, amount_tiyn: int, at: datetime) -> None:
        if self.status != "pending":
            raise Conflict(f"payment {self.id} is already {self.status}")
        if amount_tiyn != self.amount_tiyn:
            raise RuleViolation(
                f"captured {amount_tiyn} tiyn but payment {self.id} is for {self.amount_tiyn}"
            )
        self.status = "captured"
        self.completed_at = at

    def decline(self, at: datetime) -> None:
        if self.status != "pending":
            raise Conflict(f"payment {self.id} is already {self.status}")
        self.status = "declined"
        self.completed_at = at


@dataclass
class Refund:
    id: str
    invoice_id: str
    payment_id: str
    amount_tiyn: int
    reason: str
    created_at: datetime
    status: RefundStatus = "pending"
    completed_at: datetime | None = None

    @classmethod
    def request(
        cls, invoice: Invoice, payment: Payment, *, amount_tiyn: int, reason: str, now: datetime
    ) -> Refund:
        if payment.status != "captured" or payment.invoice_id != invoice.id:
            raise Conflict(f"invoice {invoice.id} has no captured payment to refund")
        invoice.reserve_refund(amount_tiyn)
        return cls(
            id=new_id("ref"),
            invoice_id=invoice.id,
            payment_id=payment.id,
            amount_tiyn=amount_tiyn,
            reason=reason,
            created_at=now,
        )

    def complete(self, invoice: Invoice, amount_tiyn: int, at: datetime) -> None:
        if self.status != "pending":
            raise Conflict(f"refund {self.id} is already {self.status}")
        if amount_tiyn != self.amount_tiyn:
            raise RuleViolation(
                f"acquirer refunded {amount_tiyn} tiyn but refund {self.id} is {self.amount_tiyn}"
            )
        invoice.complete_refund(self.amount_tiyn)
        self.status = "completed"
        self.completed_at = at

    def fail(self, invoice: Invoice, at: datetime) -> None:
        if self.status != "pending":
            raise Conflict(f"refund {self.id} is already {self.status}")
        invoice.release_refund(self.amount_tiyn)
        self.status = "failed"
        self.completed_at = at


@dataclass
class Payout:
    """An agency pays a citizen from one of its budget accounts (e.g. a birth allowance)."""

    id: str
    agency: str
    recipient_iin: str
    amount_tiyn: int
    kbk: str
    purpose: str
    reference: str
    created_at: datetime
    status: Literal["completed"] = "completed"
    #: a state allowance (POST /allowances): its kind and subject (the child, the deceased);
    #: unique together in the table — paid at most once. None for an agency's own payout.
    allowance_kind: str | None = None
    subject_iin: str | None = None

    @classmethod
    def make(
        cls,
        *,
        agency: str,
        recipient_iin: str,
        amount_tiyn: int,
        kbk: str,
        purpose: str,
        reference: str,
        now: datetime,
        allowance_kind: str | None = None,
        subject_iin: str | None = None,
    ) -> Payout:
        if amount_tiyn <= 0:
            raise RuleViolation("amount must be positive", errors={"amount_tiyn": "must be > 0"})
        if (allowance_kind is None) != (subject_iin is None):
            raise ValueError("an allowance names both its kind and its subject")
        return cls(
            id=new_id("po"),
            agency=agency,
            recipient_iin=recipient_iin,
            amount_tiyn=amount_tiyn,
            kbk=kbk,
            purpose=purpose,
            reference=reference,
            created_at=now,
            allowance_kind=allowance_kind,
            subject_iin=subject_iin,
        )
