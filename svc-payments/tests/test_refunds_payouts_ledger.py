"""Refunds, payouts, the append-only ledger and the daily reconciliation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from payments_harness import Payments, new_bin, new_iin
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from egov_payments.adapters import orm
from egov_payments.domain import kbk, ledger
from egov_payments.handlers import STATE_DUTY_SCOPE, legal_entity_duty_tiyn, make_handlers
from egov_payments.service_layer import services
from meshkit.clock import BusinessClock
from meshkit.contracts.common import Share
from meshkit.contracts.registry import Founder, LegalEntityRegistered
from meshkit.events import TypedEvent, build_envelope
from meshkit.reference import mrp_tiyn

REFUNDED = "kz.egov.payments.refund.completed.v1"
PAYOUT = "kz.egov.payments.payout.completed.v1"
SOCIAL = "social-fund"  # an agency paying its own programme through POST /payouts


async def _refund(svc: Payments, inv: dict[str, Any], amount: int, **kw: Any) -> httpx.Response:
    return await svc.call(
        "POST",
        f"/invoices/{inv['id']}/refunds",
        json_body={"amount_tiyn": amount, "reason": "Қате төлем"},
        **kw,
    )


async def test_refunds_up_to_the_paid_amount(svc: Payments) -> None:
    inv = await svc.create_invoice(amount_tiyn=1_000_000)
    r = await _refund(svc, inv, 100)
    assert r.status_code == 409  # not paid yet
    await svc.pay(inv)
    budget = ledger.agency_budget("registry", "108114")
    after_payment = await svc.balance(budget)
    r = await _refund(svc, inv, 1_000_001)
    assert r.status_code == 422 and "amount_tiyn" in r.json()["errors"]
    r = await _refund(svc, inv, 100, client="notary")
    assert r.status_code == 403
    r = await _refund(svc, inv, 400_000)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    first = r.json()
    await svc.wait_for(
        lambda: svc._status_is(inv["id"], "partially_refunded", "registry"), "refund 1"
    )
    got = await svc.call("GET", f"/invoices/{inv['id']}/refunds/{first['id']}")
    assert got.json()["status"] == "completed"
    # 600 000 remain; asking for more is refused, asking for exactly that works
    r = await _refund(svc, inv, 600_001)
    assert r.status_code == 422
    r = await _refund(svc, inv, 600_000)
    assert r.status_code == 202
    await svc.wait_for(lambda: svc._status_is(inv["id"], "refunded", "registry"), "refund 2")
    r = await _refund(svc, inv, 1)
    assert r.status_code == 422
    final = await svc.invoice(inv["id"])
    assert (final["paid_tiyn"], final["refunded_tiyn"], final["refund_pending_tiyn"]) == (
        1_000_000,
        1_000_000,
        0,
    )
    events = await svc.events(REFUNDED, inv["id"])
    assert sorted(e["data"]["amount_tiyn"] for e in events) == [400_000, 600_000]
    assert await svc.balance(budget) == after_payment - 1_000_000
    assert await svc.balance(ledger.party(inv["payer"])) == 0
    assert await svc.balance(ledger.REFUNDS) == 0
    assert await svc.ledger_total() == 0


async def test_refund_idempotency_and_duplicate_refund_callbacks(svc: Payments) -> None:
    inv = await svc.create_invoice(amount_tiyn=300_000)
    session = await svc.pay(inv)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    r1 = await _refund(svc, inv, 100_000, headers=key)
    r2 = await _refund(svc, inv, 100_000, headers=key)
    assert r1.json()["id"] == r2.json()["id"]
    await svc.wait_for(
        lambda: svc._status_is(inv["id"], "partially_refunded", "registry"), "refund"
    )
    sent = [
        n
        for n in await svc.bank.notifications_for(session["payment_id"])
        if n["payload"]["type"] == "refund.completed"
    ]
    assert len(sent) == 1
    await svc.client.post(f"/sandbox-acquirer/notifications/{sent[0]['event_id']}/redeliver")
    # the same refund under another acquirer event id is also a no-op
    again = svc.callback_body(
        type_="refund.completed",
        payment_id=session["payment_id"],
        amount_tiyn=100_000,
        refund_id=r1.json()["id"],
    )
    assert (await svc.send_callback(again)).json()["status"] == "already_processed"
    assert len(await svc.events(REFUNDED, inv["id"])) == 1
    assert (await svc.invoice(inv["id"]))["refunded_tiyn"] == 100_000


async def _fund_social_programme(svc: Payments) -> None:
    """An agency running its own social programme (not seeded: the dev seed funds only the
    allowances payments pays itself, and the gateway pays nothing)."""
    await services.allocate_budget(
        svc.uows,
        agency=SOCIAL,
        kbk=kbk.SOCIAL_BENEFITS,
        amount_tiyn=1_000_000_000,
        reference="test:social",
        clock=svc.clock,
    )


async def test_the_dev_seed_funds_the_allowances_and_not_the_gateway(svc: Payments) -> None:
    assert await svc.balance(ledger.agency_budget("payments", kbk.SOCIAL_BENEFITS)) > 0
    assert await svc.balance(ledger.agency_budget("gateway", kbk.SOCIAL_BENEFITS)) == 0


async def test_payouts_never_overdraw_a_budget(svc: Payments) -> None:
    recipient = new_iin()
    await _fund_social_programme(svc)
    account = ledger.agency_budget(SOCIAL, kbk.SOCIAL_BENEFITS)
    seeded = await svc.balance(account)
    assert seeded > 0
    body = {
        "recipient_iin": recipient,
        "amount_tiyn": 14_734_400,
        "kbk": kbk.SOCIAL_BENEFITS,
        "purpose": "Бала туғанда берілетін біржолғы жәрдемақы",
        "reference": "BIRTH-0001",
    }
    key = {"Idempotency-Key": "birth-0001"}
    r = await svc.call("POST", "/payouts", client=SOCIAL, json_body=body, headers=key)
    assert r.status_code == 201, r.text
    payout = r.json()
    again = await svc.call("POST", "/payouts", client=SOCIAL, json_body=body, headers=key)
    assert again.status_code == 201 and again.json()["id"] == payout["id"]
    other = await svc.call(
        "POST", "/payouts", client=SOCIAL, json_body={**body, "amount_tiyn": 1}, headers=key
    )
    assert other.status_code == 409
    assert await svc.balance(account) == seeded - 14_734_400
    assert await svc.balance(ledger.party(recipient)) == 14_734_400
    events = await svc.events(PAYOUT, payout["id"])
    assert len(events) == 1 and events[0]["data"]["recipient_iin"] == recipient
    # who may read it
    assert (await svc.as_citizen("GET", f"/payouts/{payout['id']}", recipient)).status_code == 200
    assert (await svc.as_citizen("GET", f"/payouts/{payout['id']}", new_iin())).status_code == 403
    assert (await svc.call("GET", f"/payouts/{payout['id']}", client="notary")).status_code == 403
    r = await svc.as_citizen("POST", "/payouts", recipient, json_body=body)
    assert r.status_code == 422  # no Idempotency-Key
    r = await svc.call(
        "POST",
        "/payouts",
        client="citizen",
        user=recipient,
        json_body=body,
        headers={"Idempotency-Key": "x"},
    )
    assert r.status_code == 403

    # beyond the balance: 422, and not one entry or payout written
    entries, payouts = (
        await svc.entry_count(),
        await svc.scalar(select(func.count()).select_from(orm.payouts)),
    )
    r = await svc.call(
        "POST",
        "/payouts",
        client=SOCIAL,
        json_body={**body, "amount_tiyn": seeded, "reference": "BIRTH-0002"},
        headers={"Idempotency-Key": "birth-0002"},
    )
    assert r.status_code == 422 and r.json()["type"].endswith("insufficient-funds")
    assert await svc.entry_count() == entries
    assert await svc.scalar(select(func.count()).select_from(orm.payouts)) == payouts
    # an agency without that budget line has nothing to pay from
    r = await svc.call(
        "POST", "/payouts", client="notary", json_body=body, headers={"Idempotency-Key": "n-1"}
    )
    assert r.status_code == 422


async def test_concurrent_payouts_stop_at_zero(svc: Payments) -> None:
    await services.allocate_budget(
        svc.uows,
        agency="licensing",
        kbk="213099",
        amount_tiyn=1_000,
        reference="t",
        clock=svc.clock,
    )

    async def pay_one(i: int) -> int:
        r = await svc.call(
            "POST",
            "/payouts",
            client="licensing",
            json_body={
                "recipient_iin": new_iin(),
                "amount_tiyn": 100,
                "kbk": "213099",
                "purpose": "test",
                "reference": f"c{i}",
            },
            headers={"Idempotency-Key": f"c{i}"},
        )
        return r.status_code

    codes = await asyncio.gather(*(pay_one(i) for i in range(25)))
    assert sorted(codes) == [201] * 10 + [422] * 15
    assert await svc.balance(ledger.agency_budget("licensing", "213099")) == 0
    async with svc.runtime.session_factory() as s:
        cached = (
            await s.execute(
                select(orm.account_balances.c.balance_tiyn).where(
                    orm.account_balances.c.account == ledger.agency_budget("licensing", "213099")
                )
            )
        ).scalar_one()
    assert cached == 0
    assert await svc.ledger_total() == 0


async def test_posted_entries_cannot_be_changed_or_deleted(svc: Payments) -> None:
    assert await svc.entry_count() > 0  # the seed
    for stmt in (
        update(orm.ledger_entries).values(amount_tiyn=0),
        delete(orm.ledger_entries),
        update(orm.ledger_transactions).values(reference="x"),
        delete(orm.ledger_transactions),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with svc.runtime.session_factory() as s, s.begin():
                await s.execute(stmt)
    if svc.is_postgres:
        with pytest.raises(DBAPIError, match="append-only"):
            async with svc.runtime.session_factory() as s, s.begin():
                await s.execute(text("TRUNCATE ledger_entries CASCADE"))
    assert await svc.ledger_total() == 0


async def test_daily_reconciliation(svc: Payments) -> None:
    day = svc.clock.today().isoformat()
    inv = await svc.create_invoice(amount_tiyn=250_000)
    await svc.pay(inv)
    lic = await svc.create_invoice(amount_tiyn=50_000, agency="licensing", kbk=kbk.LICENSE_FEE)
    await svc.pay(lic)
    r = await _refund(svc, inv, 50_000)
    await svc.wait_for(
        lambda: svc._status_is(inv["id"], "partially_refunded", "registry"), "refund"
    )
    await _fund_social_programme(svc)
    r = await svc.call(
        "POST",
        "/payouts",
        client=SOCIAL,
        json_body={
            "recipient_iin": new_iin(),
            "amount_tiyn": 7_000,
            "kbk": kbk.SOCIAL_BENEFITS,
            "purpose": "p",
            "reference": "r",
        },
        headers={"Idempotency-Key": "rec-1"},
    )
    assert r.status_code == 201
    # a capture whose callback never reaches us: the bank has it, the ledger does not
    lost = await svc.create_invoice(amount_tiyn=99_000)
    session = await svc.start_payment(lost)
    svc.bank.callback_url = "http://svc/nowhere"  # 404: the bank gives up
    await svc.client.post(
        f"/sandbox-acquirer/pay/{session['acquirer_payment_id']}", json={"decision": "approve"}
    )

    async def bank_gave_up() -> bool:
        sent = await svc.bank.notifications_for(session["payment_id"])
        return bool(sent) and sent[0]["last_status"] == 404

    await svc.wait_for(bank_gave_up, "the lost callback")

    r = await svc.call("GET", f"/reports/reconciliation?date={day}", client="operator")
    assert r.status_code == 200, r.text
    rep = r.json()
    lines = {(x["agency"], x["kbk"]): x for x in rep["lines"]}
    reg = lines[("registry", "108114")]
    assert (reg["payments_count"], reg["payments_tiyn"]) == (1, 250_000)
    assert (reg["refunds_count"], reg["refunds_tiyn"]) == (1, 50_000)
    assert lines[("licensing", kbk.LICENSE_FEE)]["payments_tiyn"] == 50_000
    assert lines[(SOCIAL, kbk.SOCIAL_BENEFITS)]["payouts_count"] == 1
    assert (rep["payments_count"], rep["refunds_count"], rep["payouts_count"]) == (2, 1, 1)
    assert rep["acquirer_payments_tiyn"] == 250_000 + 50_000 + 99_000
    assert rep["ledger_payments_tiyn"] == 300_000
    assert rep["mismatches"] == [
        {
            "kind": "payment",
            "reference": session["payment_id"],
            "acquirer": "sandbox",
            "acquirer_tiyn": 99_000,
            "ledger_tiyn": None,
            "problem": "missing_in_ledger",
        }
    ]
    assert rep["ledger_balanced"] is True
    # an agency sees its own lines only; a citizen none
    r = await svc.call("GET", f"/reports/reconciliation?date={day}", client="licensing")
    assert [(x["agency"]) for x in r.json()["lines"]] == ["licensing"] and r.json()[
        "mismatches"
    ] == []
    r = await svc.call(
        "GET", f"/reports/reconciliation?date={day}", client="citizen", user=new_iin()
    )
    assert r.status_code == 403
    r = await svc.call("GET", "/reports/reconciliation?date=2026-13-01", client="operator")
    assert r.status_code == 422


async def test_legal_entity_registered_issues_one_state_duty_invoice(svc: Payments) -> None:
    handlers = make_handlers(svc.runtime.settings)  # type: ignore[arg-type]
    director, bin_ = new_iin(), new_bin()
    data = LegalEntityRegistered(
        bin=bin_,
        name_kk="«Әлем» ЖШС",
        name_ru="ТОО «Алем»",
        legal_form="LLP",
        director_iin=director,
        founders=[Founder(id=director, share=Share(num=1, den=1))],
        registered_at="2026-11-24T10:00:00Z",  # type: ignore[arg-type]
        application_ref="REG-APP-42",
    )
    for _ in range(2):  # a logically duplicate event (another event id) issues nothing more
        event = TypedEvent(
            envelope=build_envelope(data, source="/svc-registry", subject=bin_), data=data
        )
        async with svc.uows() as uow:
            for h in handlers.handlers_for(data.event_type):
                await h(event, uow)
            await uow.commit()
    r = await svc.call("GET", "/invoices", client="citizen", user=director)
    invoices = r.json()
    assert len(invoices) == 1
    inv = invoices[0]
    assert (inv["payer"], inv["kbk"], inv["reference"], inv["beneficiary_agency"]) == (
        bin_,
        "108114",
        "REG-APP-42",
        "registry",
    )
    # 6.5 MRP of the day (meshkit.reference.mrp_tiyn, the one table; the register's fee too)
    assert inv["amount_tiyn"] == legal_entity_duty_tiyn("LLP", BusinessClock(5).today())
    assert inv["amount_tiyn"] == 26 * mrp_tiyn(BusinessClock(5).today()) // 4
    assert "ТОО «Алем»" in inv["purpose"]
    assert len(await svc.events("kz.egov.payments.invoice.issued.v1", inv["id"])) == 1
    async with svc.uows() as uow:
        assert await uow.idempotency.get(STATE_DUTY_SCOPE, bin_) is not None
    # a sole proprietor owes no duty
    sp = data.model_copy(update={"bin": new_bin(), "legal_form": "SOLE_PROPRIETOR"})
    async with svc.uows() as uow:
        for h in handlers.handlers_for(sp.event_type):
            await h(
                TypedEvent(
                    envelope=build_envelope(sp, source="/svc-registry", subject=sp.bin), data=sp
                ),
                uow,
            )
        await uow.commit()
    assert len((await svc.call("GET", "/invoices", client="citizen", user=director)).json()) == 1
