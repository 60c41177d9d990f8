"""Paying through the sandbox acquirer, and the acquirer's callback door: signed, fresh,
once-only, in order — anything else changes nothing and is logged."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from payments_harness import Payments, new_iin
from sqlalchemy import func, select

from egov_payments.adapters import orm
from egov_payments.domain import ledger
from egov_payments.service_layer import services

PAID = "kz.egov.payments.invoice.paid.v1"


async def test_citizen_pays_through_the_sandbox_bank(svc: Payments) -> None:
    payer = new_iin()
    inv = await svc.create_invoice(payer=payer, amount_tiyn=1_534_000)
    budget = ledger.agency_budget("registry", "108114")
    before = await svc.balance(budget)
    # only the payer starts a payment
    r = await svc.as_citizen("POST", f"/invoices/{inv['id']}/payments", new_iin())
    assert r.status_code == 403
    r = await svc.call("POST", f"/invoices/{inv['id']}/payments", client="registry")
    assert r.status_code == 403
    session = await svc.start_payment(inv)
    assert session["payment_url"].startswith("http://svc/sandbox-acquirer/pay/")
    # asking again gives the same open session
    assert (await svc.start_payment(inv))["payment_id"] == session["payment_id"]
    page = await svc.client.get(f"/sandbox-acquirer/pay/{session['acquirer_payment_id']}")
    assert page.status_code == 200 and "15 340.00 ₸" in page.text and "Әә" in page.text
    r = await svc.client.post(
        f"/sandbox-acquirer/pay/{session['acquirer_payment_id']}", data={"decision": "approve"}
    )
    assert r.status_code == 200
    await svc.wait_for(lambda: svc._status_is(inv["id"], "paid", "registry"), "paid")
    paid = await svc.invoice(inv["id"])
    assert paid["paid_tiyn"] == 1_534_000 and paid["paid_at"]
    events = await svc.events(PAID, inv["id"])
    assert len(events) == 1 and events[0]["data"]["amount_tiyn"] == 1_534_000
    assert await svc.balance(budget) - before == 1_534_000
    assert await svc.balance(ledger.party(payer)) == -1_534_000
    assert await svc.balance(ledger.ACQUIRER_CLEARING) == 0
    assert await svc.ledger_total() == 0
    # paying a paid invoice is a conflict; the bank page shows it is done
    r = await svc.as_citizen("POST", f"/invoices/{inv['id']}/payments", payer)
    assert r.status_code == 409
    r = await svc.client.post(
        f"/sandbox-acquirer/pay/{session['acquirer_payment_id']}", json={"decision": "approve"}
    )
    assert r.status_code == 409


async def test_declined_payment_leaves_the_invoice_payable(svc: Payments) -> None:
    inv = await svc.create_invoice()
    s1 = await svc.start_payment(inv)
    r = await svc.client.post(
        f"/sandbox-acquirer/pay/{s1['acquirer_payment_id']}", json={"decision": "decline"}
    )
    assert r.json()["status"] == "declined"

    async def declined() -> bool:
        status = await svc.scalar(
            select(orm.payments.c.status).where(orm.payments.c.id == s1["payment_id"])
        )
        return bool(status == "declined")

    await svc.wait_for(declined, "payment declined")
    assert (await svc.invoice(inv["id"]))["status"] == "issued"
    s2 = await svc.start_payment(inv)
    assert s2["payment_id"] != s1["payment_id"]
    await svc.client.post(
        f"/sandbox-acquirer/pay/{s2['acquirer_payment_id']}", json={"decision": "approve"}
    )
    await svc.wait_for(lambda: svc._status_is(inv["id"], "paid", "registry"), "paid")
    assert len(await svc.events(PAID, inv["id"])) == 1


async def test_fifty_concurrent_callbacks_make_one_payment(svc: Payments) -> None:
    inv = await svc.create_invoice(amount_tiyn=500_000)
    session = await svc.start_payment(inv)
    entries_before = await svc.entry_count()
    same = svc.callback_body(
        type_="payment.captured", payment_id=session["payment_id"], amount_tiyn=500_000
    )
    # 25 copies of one callback and 25 of the same fact under other acquirer event ids
    bodies = [same] * 25 + [
        svc.callback_body(
            type_="payment.captured", payment_id=session["payment_id"], amount_tiyn=500_000
        )
        for _ in range(25)
    ]
    answers = await asyncio.gather(*(svc.send_callback(b) for b in bodies))
    statuses = sorted(r.json()["status"] for r in answers)
    assert all(r.status_code == 200 for r in answers), [
        r.text for r in answers if r.status_code != 200
    ]
    assert statuses.count("processed") == 1 and statuses.count("already_processed") == 49
    assert len(await svc.events(PAID, inv["id"])) == 1
    assert await svc.entry_count() - entries_before == 4  # payment + settlement postings
    assert (await svc.invoice(inv["id"]))["status"] == "paid"
    logged = await svc.scalar(select(func.count()).select_from(orm.acquirer_callback_log))
    assert logged == 50
    assert await svc.ledger_total() == 0


async def test_bad_callbacks_change_nothing_and_are_logged(svc: Payments) -> None:
    inv = await svc.create_invoice(amount_tiyn=700_000)
    session = await svc.start_payment(inv)
    pid = session["payment_id"]
    entries_before = await svc.entry_count()
    good = svc.callback_body(type_="payment.captured", payment_id=pid, amount_tiyn=700_000)

    async def nothing_changed() -> None:
        assert (await svc.invoice(inv["id"]))["status"] == "issued"
        assert await svc.events(PAID, inv["id"]) == []

    # unsigned
    r = await svc.client.post(
        "/acquirer/callbacks", content=good, headers={"content-type": "application/json"}
    )
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    # signed with another secret
    assert (await svc.send_callback(good, secret="not-the-secret")).status_code == 401
    # tampered: the body changed after signing
    ts = str(int(time.time()))
    from egov_payments.adapters.signing import sign

    sig = sign("test-acquirer-secret", ts, good)
    tampered = good.replace(b"700000", b"7000")
    r = await svc.client.post(
        "/acquirer/callbacks",
        content=tampered,
        headers={"X-Acquirer-Timestamp": ts, "X-Acquirer-Signature": sig},
    )
    assert r.status_code == 401
    # replayed outside the window (signed ten minutes ago)
    r = await svc.send_callback(good, timestamp=int(time.time()) - 600)
    assert r.status_code == 401 and "window" in r.json()["detail"]
    # a signed document that is not a callback
    assert (await svc.send_callback(b'{"hello": 1}')).status_code == 422
    # out of order: a refund of a payment that was never captured
    refund_first = svc.callback_body(
        type_="refund.completed", payment_id=pid, amount_tiyn=700_000, refund_id="ref_unknown"
    )
    assert (await svc.send_callback(refund_first)).status_code == 409
    # a capture that does not match the invoice
    wrong = svc.callback_body(type_="payment.captured", payment_id=pid, amount_tiyn=1)
    assert (await svc.send_callback(wrong)).status_code == 422
    # a payment we never started
    alien = svc.callback_body(type_="payment.captured", payment_id="pay_alien", amount_tiyn=1)
    assert (await svc.send_callback(alien)).status_code == 422
    await nothing_changed()
    assert await svc.entry_count() == entries_before

    # the genuine callback works, its duplicate is acknowledged and ignored
    assert (await svc.send_callback(good)).json()["status"] == "processed"
    r = await svc.send_callback(good)
    assert r.status_code == 200 and r.json()["status"] == "already_processed"
    # a decline after the capture contradicts it
    declined = svc.callback_body(type_="payment.declined", payment_id=pid, amount_tiyn=700_000)
    assert (await svc.send_callback(declined)).status_code == 409
    assert (await svc.invoice(inv["id"]))["status"] == "paid"
    assert len(await svc.events(PAID, inv["id"])) == 1

    async with svc.runtime.session_factory() as s:
        outcomes = [
            r[0]
            for r in await s.execute(
                select(orm.acquirer_callback_log.c.outcome).order_by(orm.acquirer_callback_log.c.id)
            )
        ]
    assert outcomes == [
        "rejected_unsigned",
        "rejected_bad_signature",
        "rejected_bad_signature",
        "rejected_stale",
        "rejected_malformed",
        "conflict",
        "refused",
        "refused",
        "processed",
        "already_processed",
        "conflict",
    ]


async def test_bank_duplicate_delivery_is_ignored(svc: Payments) -> None:
    inv = await svc.create_invoice()
    session = await svc.pay(inv)
    sent: list[dict[str, Any]] = []

    async def delivered() -> bool:
        sent[:] = await svc.bank.notifications_for(session["payment_id"])
        return len(sent) == 1 and sent[0]["delivered_at"] is not None

    await svc.wait_for(delivered, "the bank saw its callback acknowledged")
    r = await svc.client.post(f"/sandbox-acquirer/notifications/{sent[0]['event_id']}/redeliver")
    assert r.json()["status"] == "200"
    assert len(await svc.events(PAID, inv["id"])) == 1


async def test_a_late_callback_for_an_invoice_paid_in_time(svc: Payments) -> None:
    today = svc.clock.today()
    inv = await svc.create_invoice(due_date=today)
    session = await svc.start_payment(inv)
    # the expiry loop runs the next day, before the bank's callback arrives
    await services.expire_overdue(svc.uows, clock=svc.clock, today=today + timedelta(days=1))
    assert (await svc.invoice(inv["id"]))["status"] == "expired"
    paid_yesterday = svc.callback_body(
        type_="payment.captured",
        payment_id=session["payment_id"],
        amount_tiyn=inv["amount_tiyn"],
        occurred_at=datetime.now(UTC),
    )
    assert (await svc.send_callback(paid_yesterday)).json()["status"] == "processed"
    assert (await svc.invoice(inv["id"]))["status"] == "paid"

    # paid after the due date: refused, nothing changes
    inv2 = await svc.create_invoice(due_date=today)
    s2 = await svc.start_payment(inv2)
    await services.expire_overdue(svc.uows, clock=svc.clock, today=today + timedelta(days=1))
    too_late = svc.callback_body(
        type_="payment.captured",
        payment_id=s2["payment_id"],
        amount_tiyn=inv2["amount_tiyn"],
        occurred_at=datetime.now(UTC) + timedelta(days=2),
    )
    assert (await svc.send_callback(too_late)).status_code == 409
    assert (await svc.invoice(inv2["id"]))["status"] == "expired"
    assert json.loads(too_late)["type"] == "payment.captured"


async def test_a_signed_callback_in_another_currency_pays_nothing(svc: Payments) -> None:
    """Issue 16: a validly signed capture of 700 000 "USD" does not pay a KZT invoice of
    700 000 tiyn; neither does a signed callback whose amount does not match."""
    inv = await svc.create_invoice(amount_tiyn=700_000)
    session = await svc.start_payment(inv)
    pid = session["payment_id"]
    entries_before = await svc.entry_count()
    for currency in ("USD", "kzt", "XXXX"):
        usd = svc.callback_body(
            type_="payment.captured", payment_id=pid, amount_tiyn=700_000, currency=currency
        )
        r = await svc.send_callback(usd)
        assert r.status_code == 422, (currency, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = await svc.send_callback(
        svc.callback_body(
            type_="payment.captured", payment_id=pid, amount_tiyn=700_000, currency="USD"
        )
    )
    assert "USD" in r.json()["detail"] and "KZT" in r.json()["detail"]
    for amount in (699_999, 2**63, 10**20):
        wrong = svc.callback_body(type_="payment.captured", payment_id=pid, amount_tiyn=amount)
        assert (await svc.send_callback(wrong)).status_code == 422, amount
    assert (await svc.invoice(inv["id"]))["status"] == "issued"
    assert await svc.events(PAID, inv["id"]) == []
    assert await svc.entry_count() == entries_before
    # the genuine fact in KZT still pays it
    good = svc.callback_body(type_="payment.captured", payment_id=pid, amount_tiyn=700_000)
    assert (await svc.send_callback(good)).json()["status"] == "processed"
    assert (await svc.invoice(inv["id"]))["status"] == "paid"


async def test_a_signed_callback_nested_deeply_is_a_4xx_problem(svc: Payments) -> None:
    """Issue 16: signed, so it reaches the parser — 50 000 levels of nesting are refused
    before json.loads (a problem, not a 500), and nothing is paid."""
    inv = await svc.create_invoice(amount_tiyn=700_000)
    session = await svc.start_payment(inv)
    good = json.loads(
        svc.callback_body(
            type_="payment.captured", payment_id=session["payment_id"], amount_tiyn=700_000
        )
    )
    depth = 50_000
    nested = json.dumps({**good, "extra": "@"}).replace('"@"', "[" * depth + "]" * depth)
    r = await svc.send_callback(nested.encode())
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert (await svc.invoice(inv["id"]))["status"] == "issued"
