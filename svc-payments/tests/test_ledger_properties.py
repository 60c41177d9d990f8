"""Property: whatever sequence of operations runs, the ledger stays balanced — every posting
sums to zero, all entries together sum to zero, the balance table agrees with the entries, and
no budget account is ever negative."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payments_harness import Payments, new_iin
from sqlalchemy import func, select

from egov_payments.adapters import orm
from egov_payments.domain import ledger
from egov_payments.service_layer import services

KBK = "213077"
amounts = st.integers(min_value=1, max_value=5_000)
index = st.integers(min_value=0, max_value=7)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), amounts),
        st.tuples(st.just("pay"), index),
        st.tuples(st.just("duplicate"), index),
        st.tuples(st.just("refund"), index, amounts),
        st.tuples(st.just("cancel"), index),
        st.tuples(st.just("payout"), amounts),
        st.tuples(st.just("allocate"), amounts),
    ),
    min_size=1,
    max_size=14,
)


async def _run(svc: Payments, ops: list[tuple[Any, ...]]) -> None:
    invoices: list[dict[str, Any]] = []
    sent: dict[str, bytes] = {}
    agency = f"agency{uuid.uuid4().hex[:6]}"  # a fresh budget line per example
    for op in ops:
        kind = op[0]
        if kind == "invoice":
            invoices.append(await svc.create_invoice(amount_tiyn=op[1], agency="registry", kbk=KBK))
        elif kind in ("pay", "duplicate", "refund", "cancel") and invoices:
            inv = invoices[op[1] % len(invoices)]
            if kind == "pay":
                r = await svc.as_citizen("POST", f"/invoices/{inv['id']}/payments", inv["payer"])
                if r.status_code == 201:
                    body = svc.callback_body(
                        type_="payment.captured",
                        payment_id=r.json()["payment_id"],
                        amount_tiyn=inv["amount_tiyn"],
                    )
                    sent[inv["id"]] = body
                    assert (await svc.send_callback(body)).status_code in (200, 409)
            elif kind == "duplicate" and inv["id"] in sent:
                assert (await svc.send_callback(sent[inv["id"]])).json()[
                    "status"
                ] == "already_processed"
            elif kind == "refund":
                r = await svc.call(
                    "POST",
                    f"/invoices/{inv['id']}/refunds",
                    json_body={"amount_tiyn": op[2], "reason": "r"},
                )
                assert r.status_code in (202, 409, 422), r.text
            elif kind == "cancel":
                r = await svc.call("POST", f"/invoices/{inv['id']}/cancel")
                assert r.status_code in (200, 409)
        elif kind == "payout":
            r = await svc.call(
                "POST",
                "/payouts",
                client=agency,
                json_body={
                    "recipient_iin": new_iin(),
                    "amount_tiyn": op[1],
                    "kbk": KBK,
                    "purpose": "p",
                    "reference": "r",
                },
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert r.status_code in (201, 422), r.text
        elif kind == "allocate":
            await services.allocate_budget(
                svc.uows,
                agency=agency,
                kbk=KBK,
                amount_tiyn=op[1],
                reference=uuid.uuid4().hex,
                clock=svc.clock,
            )
    # let the bank's refund callbacks land
    while svc.bank._tasks:
        await asyncio.gather(*list(svc.bank._tasks), return_exceptions=True)


async def _assert_balanced(svc: Payments) -> None:
    e = orm.ledger_entries
    assert await svc.ledger_total() == 0
    async with svc.runtime.session_factory() as s:
        unbalanced = (
            await s.execute(
                select(e.c.transaction_id)
                .group_by(e.c.transaction_id)
                .having(func.sum(e.c.amount_tiyn) != 0)
            )
        ).all()
        assert unbalanced == []
        per_account = dict(
            (
                await s.execute(
                    select(e.c.account, func.sum(e.c.amount_tiyn)).group_by(e.c.account)
                )
            ).all()
        )
        cached = dict(
            (
                await s.execute(
                    select(orm.account_balances.c.account, orm.account_balances.c.balance_tiyn)
                )
            ).all()
        )
    # the balance table (kept for accounts that must not go negative) agrees with the entries
    restricted = {a: int(v) for a, v in per_account.items() if ledger.must_stay_non_negative(a)}
    assert restricted == {a: int(v) for a, v in cached.items() if a in per_account}
    assert all(ledger.must_stay_non_negative(a) for a in cached)
    for account, bal in per_account.items():
        if ledger.must_stay_non_negative(account):
            assert bal >= 0, (account, bal)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
async def test_ledger_sums_to_zero_after_any_sequence(
    svc: Payments, ops: list[tuple[Any, ...]]
) -> None:
    await _run(svc, ops)
    await _assert_balanced(svc)
