"""Domain objects → response shapes."""

from __future__ import annotations

from egov_payments.domain.model import Invoice, Payment, Payout, Refund
from meshkit.contracts.payments import InvoiceOut, PaymentSessionOut, PayoutOut, RefundOut


def invoice_out(inv: Invoice) -> InvoiceOut:
    return InvoiceOut(
        id=inv.id,
        payer=inv.payer,
        amount_tiyn=inv.amount_tiyn,
        currency="KZT",
        purpose=inv.purpose,
        kbk=inv.kbk,
        beneficiary_agency=inv.beneficiary_agency,
        due_date=inv.due_date,
        reference=inv.reference,
        status=inv.status,
        paid_tiyn=inv.paid_tiyn,
        refunded_tiyn=inv.refunded_tiyn,
        refund_pending_tiyn=inv.refund_pending_tiyn,
        created_at=inv.created_at,
        paid_at=inv.paid_at,
        payer_representative_iin=inv.payer_representative_iin,
    )


def payment_out(p: Payment) -> PaymentSessionOut:
    return PaymentSessionOut(
        payment_id=p.id,
        invoice_id=p.invoice_id,
        amount_tiyn=p.amount_tiyn,
        acquirer=p.acquirer,
        acquirer_payment_id=p.acquirer_payment_id or "",
        payment_url=p.payment_url or "",
        status=p.status,
        created_at=p.created_at,
    )


def refund_out(r: Refund) -> RefundOut:
    return RefundOut(
        id=r.id,
        invoice_id=r.invoice_id,
        payment_id=r.payment_id,
        amount_tiyn=r.amount_tiyn,
        reason=r.reason,
        status=r.status,
        created_at=r.created_at,
        completed_at=r.completed_at,
    )


def payout_out(p: Payout) -> PayoutOut:
    return PayoutOut(
        id=p.id,
        agency=p.agency,
        recipient_iin=p.recipient_iin,
        amount_tiyn=p.amount_tiyn,
        kbk=p.kbk,
        purpose=p.purpose,
        reference=p.reference,
        status=p.status,
        created_at=p.created_at,
        allowance_kind=p.allowance_kind,
        subject_iin=p.subject_iin,
    )
