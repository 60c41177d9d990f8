"""Invoices: routed through the gateway (``/x/payments/invoices…``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Query, Response, status

from egov_payments.api.deps import Acquirers, Call, ClockDep, DefaultAcquirer, PolicyDep, Uows
from egov_payments.api.views import invoice_out, payment_out, refund_out
from egov_payments.domain.acquirer import Acquirer
from egov_payments.service_layer import services
from meshkit.contracts.payments import (
    InvoiceCancel,
    InvoiceCreate,
    InvoiceOut,
    PaymentSessionOut,
    RefundCreate,
    RefundOut,
)
from meshkit.errors import UpstreamUnavailable
from meshkit.ids import IINOrBIN
from meshkit.problems import PROBLEM_RESPONSES
from meshkit.routed import name_data_subject

router = APIRouter(tags=["invoices"], responses=PROBLEM_RESPONSES)

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="the same key and body return the first result; another body is a 409",
    ),
]
OptionalIdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
]


@router.post(
    "/invoices",
    status_code=status.HTTP_201_CREATED,
    response_model=InvoiceOut,
    summary="Issue an invoice (agencies; Idempotency-Key required)",
)
async def create_invoice(
    body: InvoiceCreate,
    idempotency_key: IdempotencyKey,
    call: Call,
    uows: Uows,
    clock: ClockDep,
    policy: PolicyDep,
    response: Response,
) -> InvoiceOut:
    inv, replayed = await services.create_invoice(
        uows, body, call=call, idempotency_key=idempotency_key, clock=clock, policy=policy
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return invoice_out(inv)


@router.get(
    "/invoices",
    response_model=list[InvoiceOut],
    summary="Invoices of a payer (a citizen: only their own; an agency: those addressed to it)",
)
async def list_invoices(
    call: Call,
    uows: Uows,
    policy: PolicyDep,
    payer: Annotated[IINOrBIN | None, Query(description="IIN or BIN of the payer")] = None,
) -> list[InvoiceOut]:
    found = await services.list_invoices(uows, payer=payer, call=call, policy=policy)
    return [invoice_out(i) for i in found]


@router.get(
    "/invoices/{invoice_id}",
    response_model=InvoiceOut,
    summary="One invoice (its payer or its beneficiary agency)",
)
async def get_invoice(
    invoice_id: str, call: Call, uows: Uows, policy: PolicyDep, response: Response
) -> InvoiceOut:
    inv = await services.get_invoice(uows, invoice_id, call=call, policy=policy)
    name_data_subject(response, inv.payer)  # the payer sees who read their invoice
    return invoice_out(inv)


@router.post(
    "/invoices/{invoice_id}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentSessionOut,
    summary="The payer starts paying: a session at the acquirer, with its payment page",
)
async def start_payment(
    invoice_id: str, call: Call, uows: Uows, clock: ClockDep, acquirer: DefaultAcquirer
) -> PaymentSessionOut:
    payment = await services.start_payment(
        uows, invoice_id, call=call, acquirer=acquirer, clock=clock
    )
    return payment_out(payment)


@router.post(
    "/invoices/{invoice_id}/cancel",
    response_model=InvoiceOut,
    summary="Cancel an unpaid invoice (its beneficiary agency)",
)
async def cancel_invoice(
    invoice_id: str,
    call: Call,
    uows: Uows,
    clock: ClockDep,
    body: Annotated[InvoiceCancel | None, Body()] = None,
) -> InvoiceOut:
    reason = (body or InvoiceCancel()).reason
    inv = await services.cancel_invoice(uows, invoice_id, reason=reason, call=call, clock=clock)
    return invoice_out(inv)


@router.post(
    "/invoices/{invoice_id}/refunds",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RefundOut,
    summary="Refund (part of) a paid invoice (its beneficiary agency); the acquirer completes it",
)
async def request_refund(
    invoice_id: str,
    body: RefundCreate,
    call: Call,
    uows: Uows,
    clock: ClockDep,
    acquirers: Acquirers,
    idempotency_key: OptionalIdempotencyKey = None,
) -> RefundOut:
    def acquirer_for(code: str) -> Acquirer:
        if code not in acquirers:
            raise UpstreamUnavailable(f"acquirer {code!r} is not configured")
        return acquirers[code]

    refund = await services.request_refund(
        uows,
        invoice_id,
        body,
        call=call,
        acquirer_for=acquirer_for,
        clock=clock,
        idempotency_key=idempotency_key,
    )
    return refund_out(refund)


@router.get(
    "/invoices/{invoice_id}/refunds/{refund_id}",
    response_model=RefundOut,
    summary="One refund (the invoice's payer or beneficiary agency)",
)
async def get_refund(
    invoice_id: str, refund_id: str, call: Call, uows: Uows, policy: PolicyDep
) -> RefundOut:
    refund = await services.get_refund(uows, invoice_id, refund_id, call=call, policy=policy)
    return refund_out(refund)
