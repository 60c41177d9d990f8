"""The citizen's inbox on SQLite and PostgreSQL: fed by events (applications, offers, invoices,
payouts, license decisions), once per event, paginated, unread count, mark read."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx

from egov_gateway.singlewindow.offers.testkit import SingleWindowHarness, iin
from meshkit.contracts.gateway import ApplicationStatusChanged
from meshkit.contracts.licensing import ApplicationDecided
from meshkit.contracts.payments import InvoiceIssued, PayoutCompleted
from meshkit.contracts.registry import BirthRegistered
from meshkit.problems import PROBLEM_JSON

ME = iin(100, sex="female")
OTHER = iin(200, born=date(1980, 8, 8), sex="male")


def status_changed(status: str, app_id: str, who: str = ME) -> ApplicationStatusChanged:
    return ApplicationStatusChanged(
        application_id=app_id,
        service_code="pm-birth-allowance",
        applicant_iin=who,
        status=status,
        reason="paid" if status == "completed" else None,
    )


async def inbox(sw: SingleWindowHarness, who: str = ME, **params: Any) -> dict[str, Any]:
    r = await sw.client.get("/api/v1/me/notifications", params=params, headers=sw.citizen(who))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    return body


async def test_application_status_changes_reach_the_applicant_once(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    app_id = str(uuid.uuid4())
    await sw.deliver(status_changed("in_progress", app_id), subject=app_id)
    done = await sw.deliver(status_changed("completed", app_id), subject=app_id)
    await sw.redeliver(done, status_changed("completed", app_id))  # redelivered: no duplicate

    box = await inbox(sw, lang="en")
    assert box["total"] == 2 and box["unread"] == 2
    newest, older = box["items"]
    assert newest["kind"] == "application_completed"
    assert newest["title"] == "Service rendered"
    assert "paid" in newest["body"]
    assert newest["ref_type"] == "application" and newest["ref_id"] == app_id
    assert newest["important"] is True and newest["sms"] == "pending"
    assert older["kind"] == "application_in_progress"
    assert older["important"] is False and older["sms"] is None
    assert newest["texts"]["title"]["kk"] == "Қызмет көрсетілді"
    ru = await inbox(sw, lang="ru")
    assert ru["items"][0]["title"] == "Услуга оказана"
    assert (await inbox(sw, OTHER))["total"] == 0


async def test_offers_invoices_payouts_and_licenses_are_notified(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    child = iin(300, born=date(2026, 11, 1), sex="male")
    await sw.deliver(
        BirthRegistered(
            act_number="B-1",
            child_iin=child,
            surname="Әлиев",
            given_name="Ұлан",
            birth_date=date(2026, 11, 1),
            sex="male",
            place="Алматы",
            mother_iin=ME,
            registered_at=datetime.now(UTC),
        ),
        subject=child,
    )
    await sw.deliver(
        InvoiceIssued(
            invoice_id="INV-1",
            payer=ME,
            amount_tiyn=1_384_000,
            kbk="108126",
            beneficiary_agency="licensing",
            reference="LA-1",
            due_date=date(2026, 12, 12),
        ),
        subject="INV-1",
    )
    # an invoice to a company (BIN) has no personal inbox
    await sw.deliver(
        InvoiceIssued(
            invoice_id="INV-2",
            payer="261140012345",
            amount_tiyn=100,
            kbk="108126",
            beneficiary_agency="registry",
            reference="261140012345",
            due_date=date(2026, 12, 12),
        ),
        subject="INV-2",
    )
    await sw.deliver(
        PayoutCompleted(
            payout_id="PO-1",
            agency="payments",
            recipient_iin=ME,
            amount_tiyn=14_768_000,
            reference="B-1",
            purpose="birth allowance",
        ),
        subject="PO-1",
    )
    await sw.deliver(
        ApplicationDecided(
            application_id="LA-1",
            license_type="construction",
            applicant="261140012345",
            applicant_iin=ME,
            approved=True,
            license_number="KZ26LIC0001",
        ),
        subject="LA-1",
    )
    box = await inbox(sw, lang="en", limit=50)
    kinds = [n["kind"] for n in box["items"]]
    assert kinds == [
        "license_decided",
        "payout_completed",
        "invoice_issued",
        "offer_made",  # the certificate offer (not important)
        "offer_made",  # the allowance offer (important: SMS)
    ]
    by_ref = {n["ref_id"]: n for n in box["items"]}
    assert by_ref["INV-1"]["body"] == "13840.00 KZT, due 2026-12-12 (LA-1)."
    assert by_ref["PO-1"]["important"] is True and by_ref["PO-1"]["sms"] == "pending"
    assert "KZ26LIC0001" in by_ref["LA-1"]["body"]
    offers = [n for n in box["items"] if n["kind"] == "offer_made"]
    assert {n["ref_type"] for n in offers} == {"offer"}
    assert sorted(n["important"] for n in offers) == [False, True]
    stored = await sw.sql("SELECT count(*) FROM notifications")
    assert stored[0][0] == 5


async def test_pages_and_marking_read(single_window: SingleWindowHarness) -> None:
    sw = single_window
    for _ in range(5):
        app_id = str(uuid.uuid4())
        await sw.deliver(status_changed("submitted", app_id), subject=app_id)
    first = await inbox(sw, limit=2)
    assert first["total"] == 5 and len(first["items"]) == 2 and first["next_offset"] == 2
    last = await inbox(sw, limit=2, offset=4)
    assert len(last["items"]) == 1 and last["next_offset"] is None
    ids = [n["id"] for n in first["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first

    r = await sw.client.post(
        "/api/v1/me/notifications/read", json={"ids": ids[:1]}, headers=sw.citizen(ME)
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"marked": 1, "unread": 4}
    box = await inbox(sw)
    assert box["unread"] == 4 and box["items"][0]["read"] is True

    # somebody else's notification is not in my inbox
    problem(
        await sw.client.post(
            "/api/v1/me/notifications/read", json={"ids": ids[:1]}, headers=sw.citizen(OTHER)
        ),
        404,
    )
    r = await sw.client.post("/api/v1/me/notifications/read", json={}, headers=sw.citizen(ME))
    assert r.json() == {"marked": 4, "unread": 0}
    unread = await inbox(sw, unread="true")
    assert unread["total"] == 0 and unread["unread"] == 0
    assert (await inbox(sw))["total"] == 5


async def test_the_inbox_is_a_citizen_view(single_window: SingleWindowHarness) -> None:
    sw = single_window
    problem(await sw.client.get("/api/v1/me/notifications"), 401)
    problem(
        await sw.client.get(
            "/api/v1/me/notifications", headers=sw.identity.bearer("agency", "payments")
        ),
        403,
    )
    problem(
        await sw.client.get(
            "/api/v1/me/notifications", params={"limit": 0}, headers=sw.citizen(ME)
        ),
        422,
    )
    problem(
        await sw.client.post(
            "/api/v1/me/notifications/read", json={"ids": ["x"]}, headers=sw.citizen(ME)
        ),
        422,
    )
