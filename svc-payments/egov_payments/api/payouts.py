"""Payouts and reports: routed through the gateway."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Query, Request, Response, status

from egov_payments.api.deps import Acquirers, Call, ClockDep, Facts, PolicyDep, Uows
from egov_payments.api.invoices import IdempotencyKey
from egov_payments.api.views import payout_out
from egov_payments.service_layer import services
from egov_payments.service_layer.reconciliation import reconciliation_report
from egov_payments.settings import PaymentsSettings
from meshkit.bounds import Day
from meshkit.contracts.payments import (
    AllowanceClaim,
    PayoutCreate,
    PayoutOut,
    ReconciliationReport,
)
from meshkit.problems import PROBLEM_RESPONSES
from meshkit.service import runtime_of

router = APIRouter(responses=PROBLEM_RESPONSES)


@router.post(
    "/payouts",
    tags=["payouts"],
    status_code=status.HTTP_201_CREATED,
    response_model=PayoutOut,
    summary="An agency pays a citizen from its budget account (Idempotency-Key required); "
    "an insufficient balance is a 422 and writes nothing",
)
async def create_payout(
    body: PayoutCreate,
    idempotency_key: IdempotencyKey,
    call: Call,
    uows: Uows,
    clock: ClockDep,
    response: Response,
) -> PayoutOut:
    payout, replayed = await services.create_payout(
        uows, body, call=call, idempotency_key=idempotency_key, clock=clock
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return payout_out(payout)


@router.post(
    "/allowances",
    tags=["payouts"],
    status_code=status.HTTP_201_CREATED,
    response_model=PayoutOut,
    summary="A citizen claims a state allowance for themself (Idempotency-Key required)",
    description="The recipient is always the calling citizen. The amount (a multiple of the "
    "MRP) and the budget line are payments' own reference data. Eligibility is asked of the "
    "owner of the fact through the gateway: **childbirth** — svc-identity records the caller "
    "as the child's mother or father (otherwise, or for an unknown IIN, 403 "
    "`not-your-child`); **funeral** — svc-registry holds a death act of the subject "
    "(otherwise 422 `death-not-registered`). Paid at most once per kind and subject, "
    "whoever claims (409 `allowance-already-paid`). An owner that cannot answer is a 503 "
    "(retry); nothing is paid then. Emits `kz.egov.payments.payout.completed.v1`.",
)
async def claim_allowance(
    body: AllowanceClaim,
    idempotency_key: IdempotencyKey,
    call: Call,
    uows: Uows,
    clock: ClockDep,
    facts: Facts,
    response: Response,
) -> PayoutOut:
    payout, replayed = await services.claim_allowance(
        uows, body, call=call, idempotency_key=idempotency_key, clock=clock, facts=facts
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return payout_out(payout)


@router.get(
    "/payouts/{payout_id}",
    tags=["payouts"],
    response_model=PayoutOut,
    summary="One payout (the paying agency or the recipient)",
)
async def get_payout(payout_id: str, call: Call, uows: Uows, policy: PolicyDep) -> PayoutOut:
    return payout_out(await services.get_payout(uows, payout_id, call=call, policy=policy))


@router.get(
    "/reports/reconciliation",
    tags=["reports"],
    response_model=ReconciliationReport,
    summary="A day's totals per agency and KBK, and every mismatch between acquirer and ledger "
    "(operators see all agencies; an agency its own)",
)
async def reconciliation(
    request: Request,
    call: Call,
    uows: Uows,
    clock: ClockDep,
    acquirers: Acquirers,
    day: Annotated[Day, Query(alias="date", description="YYYY-MM-DD, a day in UTC+5 (1900–2200)")],
) -> ReconciliationReport:
    settings = cast(PaymentsSettings, runtime_of(request).settings)
    return await reconciliation_report(
        uows,
        day=day,
        call=call,
        operators=settings.report_operators,
        acquirers=list(acquirers.values()),
        clock=clock,
    )
