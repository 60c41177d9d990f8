"""The daily reconciliation: what the ledger says per agency and KBK, checked against what the
acquirer says it captured and refunded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select

from egov_payments.adapters import orm
from egov_payments.domain.acquirer import Acquirer
from egov_payments.service_layer.services import UowFactory
from meshkit.auth.assertion import RoutedCall
from meshkit.clock import BusinessClock
from meshkit.contracts.payments import (
    ReconciliationLine,
    ReconciliationMismatch,
    ReconciliationReport,
)
from meshkit.errors import PermissionDenied

# the postings that count as a payment, a refund and a payout in the report
_COUNTED = {"settlement": "payments", "refund": "refunds", "payout": "payouts"}


async def reconciliation_report(
    uows: UowFactory,
    *,
    day: date,
    call: RoutedCall,
    operators: Iterable[str],
    acquirers: Iterable[Acquirer],
    clock: BusinessClock,
) -> ReconciliationReport:
    if call.is_citizen:
        raise PermissionDenied("the reconciliation is for agencies and operators")
    only_agency = None if call.client in set(operators) else call.client
    tx = orm.ledger_transactions
    e = orm.ledger_entries
    lines: dict[tuple[str, str], ReconciliationLine] = {}
    ledger_by_ref: dict[tuple[str, str], int] = {}
    async with uows() as uow:
        stmt = select(tx.c.kind, tx.c.reference, tx.c.agency, tx.c.kbk, tx.c.id).where(
            tx.c.business_date == day, tx.c.kind.in_(["settlement", "refund", "payout"])
        )
        if only_agency:
            stmt = stmt.where(tx.c.agency == only_agency)
        rows = (await uow.session.execute(stmt)).all()
        amounts: dict[str, int] = {}
        if rows:
            # a transfer's amount is its positive leg
            amount_rows = await uow.session.execute(
                select(e.c.transaction_id, func.sum(e.c.amount_tiyn))
                .where(e.c.transaction_id.in_([r.id for r in rows]), e.c.amount_tiyn > 0)
                .group_by(e.c.transaction_id)
            )
            amounts = {str(t): int(a) for t, a in amount_rows.all()}
        total = int(
            (
                await uow.session.execute(select(func.coalesce(func.sum(e.c.amount_tiyn), 0)))
            ).scalar_one()
        )
    for r in rows:
        what = _COUNTED[r.kind]
        line = lines.setdefault(
            (r.agency or "", r.kbk or ""),
            ReconciliationLine(agency=r.agency or "", kbk=r.kbk or ""),
        )
        amount = amounts.get(r.id, 0)
        setattr(line, f"{what}_count", getattr(line, f"{what}_count") + 1)
        setattr(line, f"{what}_tiyn", getattr(line, f"{what}_tiyn") + amount)
        if r.kind in ("settlement", "refund"):
            ledger_by_ref[("payment" if r.kind == "settlement" else "refund", r.reference)] = amount

    start, end = clock.day_bounds(day)
    mismatches: list[ReconciliationMismatch] = []
    acquirer_totals: dict[str, int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    # which of our payments/refunds an agency may see mismatches for
    visible_refs = set(ledger_by_ref)
    for acquirer in acquirers:
        for rec in await acquirer.settlement_report(start, end):
            key = (rec.kind, rec.reference)
            if only_agency and key not in visible_refs:
                continue
            seen.add(key)
            acquirer_totals[rec.kind] += rec.amount_tiyn
            ours = ledger_by_ref.get(key)
            if ours is None:
                mismatches.append(
                    ReconciliationMismatch(
                        kind=rec.kind,
                        reference=rec.reference,
                        acquirer=acquirer.code,
                        acquirer_tiyn=rec.amount_tiyn,
                        problem="missing_in_ledger",
                    )
                )
            elif ours != rec.amount_tiyn:
                mismatches.append(
                    ReconciliationMismatch(
                        kind=rec.kind,
                        reference=rec.reference,
                        acquirer=acquirer.code,
                        acquirer_tiyn=rec.amount_tiyn,
                        ledger_tiyn=ours,
                        problem="amount_differs",
                    )
                )
    for (kind, ref), amount in sorted(ledger_by_ref.items()):
        if (kind, ref) not in seen:
            mismatches.append(
                ReconciliationMismatch(
                    kind="payment" if kind == "payment" else "refund",
                    reference=ref,
                    acquirer="?",
                    ledger_tiyn=amount,
                    problem="missing_at_acquirer",
                )
            )
    ordered = [lines[k] for k in sorted(lines)]
    return ReconciliationReport(
        date=day,
        timezone=clock.name,
        lines=ordered,
        payments_count=sum(x.payments_count for x in ordered),
        refunds_count=sum(x.refunds_count for x in ordered),
        payouts_count=sum(x.payouts_count for x in ordered),
        acquirer_payments_tiyn=acquirer_totals["payment"],
        acquirer_refunds_tiyn=acquirer_totals["refund"],
        ledger_payments_tiyn=sum(x.payments_tiyn for x in ordered),
        ledger_refunds_tiyn=sum(x.refunds_tiyn for x in ordered),
        mismatches=mismatches,
        ledger_balanced=total == 0,
    )
