"""The citizen's inbox on SQLite and PostgreSQL: fed by events (applications, offers, invoices,
payouts, license decisions), once per event, paginated, unread count, mark read."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx

from egov_gateway.singlewindow.notifications.adapters.sms import RoutedSmsSender, SmsResult
from meshkit.contracts.gateway import ApplicationOverdue, ApplicationStatusChanged
from meshkit.contracts.licensing import ApplicationDecided
from meshkit.contracts.payments import InvoiceIssued, InvoicePaid, PayoutCompleted
from meshkit.contracts.registry import BirthRegistered
from meshkit.gateway_client import GatewayClient
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.gateway_offers import SingleWindowHarness, iin

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
    # the service by its name, no code, no technical reason
    assert (
        newest["body"] == "“One-off childbirth allowance”: the result is on the application's page."
    )
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
        InvoicePaid(
            invoice_id="INV-1",
            payer=ME,
            amount_tiyn=1_384_000,
            beneficiary_agency="licensing",
            reference="LA-1",
            paid_at=datetime.now(UTC),
        ),
        subject="INV-1",
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
            license_type="PHARMACY",
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
        "invoice_paid",
        "invoice_issued",
        "offer_made",  # the certificate offer (not important)
        "offer_made",  # the allowance offer (important: SMS)
    ]
    by_ref = {n["ref_id"]: n for n in box["items"] if n["kind"] != "invoice_paid"}
    paid = next(n for n in box["items"] if n["kind"] == "invoice_paid")
    assert paid["title"] == "Payment received" and paid["ref_id"] == "INV-1"
    assert by_ref["INV-1"]["body"] == "₸13,840.00, due 12 December 2026 (LA-1)."
    assert by_ref["PO-1"]["body"] == "₸147,680.00: one-off childbirth allowance."
    ru = {n["ref_id"]: n for n in (await inbox(sw, lang="ru", limit=50))["items"]}
    assert ru["INV-1"]["body"] == "13\u00a0840,00\u00a0₸, оплатить до 12 декабря 2026 г. (LA-1)."
    assert "тиын" not in str(ru) and "KZT" not in str(ru)
    assert by_ref["PO-1"]["important"] is True and by_ref["PO-1"]["sms"] == "pending"
    assert "KZ26LIC0001" in by_ref["LA-1"]["body"]
    # the licence by its name from licensing's catalogue, in the reader's language; no code
    assert by_ref["LA-1"]["body"].startswith("Pharmaceutical activity: retail sale of medicines")
    assert ru["LA-1"]["body"].startswith("Фармацевтическая деятельность")
    assert "PHARMACY" not in str(box) + str(ru)
    offers = [n for n in box["items"] if n["kind"] == "offer_made"]
    assert {n["ref_type"] for n in offers} == {"offer"}
    assert sorted(n["important"] for n in offers) == [False, True]
    stored = await sw.sql("SELECT count(*) FROM notifications")
    assert stored[0][0] == 6


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


async def test_important_notifications_go_out_by_sms_once(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    app_id = str(uuid.uuid4())
    await sw.deliver(status_changed("in_progress", app_id), subject=app_id)  # not important
    await sw.deliver(status_changed("completed", app_id), subject=app_id)
    assert await sw.send_sms() == 1
    assert await sw.send_sms() == 0  # sent is sent
    [(to, text, reference)] = sw.sms.sent
    assert to == ME
    assert text.startswith("eGov: Услуга оказана.") and "pm-birth-allowance" not in text
    box = await inbox(sw)
    assert [n["sms"] for n in box["items"]] == ["sent", None]
    assert reference == f"notification:{box['items'][0]['id']}"


async def test_sms_failures_retry_then_give_up(single_window: SingleWindowHarness) -> None:
    sw = single_window
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await sw.deliver(status_changed("failed", first), subject=first)
    sw.sms.result = SmsResult(False, "identity answered 503")
    assert await sw.send_sms() == 0
    assert [n["sms"] for n in (await inbox(sw))["items"]] == ["pending"]  # retried later
    attempts = await sw.sql("SELECT sms_attempts, sms_error FROM notifications")
    assert tuple(attempts[0]) == (1, "identity answered 503")

    sw.sms.result = SmsResult(False, "identity answered 404", permanent=True)
    await sw.deliver(
        status_changed("failed", second),
        subject=second,
    )
    await sw.send_sms()
    assert [n["sms"] for n in (await inbox(sw))["items"]] == ["failed", "failed"]
    sw.sms.result = SmsResult(True)
    assert await sw.send_sms() == 0  # a failed SMS is not retried forever
    assert len(sw.sms.sent) == 3


async def test_the_routed_sms_sender_asks_identity_through_the_exchange() -> None:
    seen: list[httpx.Request] = []
    answers = iter([httpx.Response(202, json={"queued": True, "phone": "+7701*****67"}),
                    httpx.Response(404, json={"title": "Not found"}),
                    httpx.Response(503, json={"title": "Unavailable"})])  # fmt: skip

    def agency(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    client = GatewayClient(
        "http://gateway.test",
        client_code="gateway",
        static_token="t0k",
        transport=httpx.MockTransport(agency),
    )
    sender = RoutedSmsSender(client)
    try:
        assert await sender.send(ME, "eGov: hello", "notification:1") == SmsResult(True)
        gone = await sender.send(ME, "eGov: hello", "notification:2")
        assert not gone.ok and gone.permanent
        later = await sender.send(ME, "eGov: hello", "notification:3")
        assert not later.ok and not later.permanent
    finally:
        await client.aclose()
    req = seen[0]
    assert (req.method, req.url.path) == ("POST", "/x/identity/notifications/sms")
    assert req.headers["authorization"] == "Bearer t0k"
    assert req.headers["x-mesh-user"] == ME and "notification" in req.headers["x-mesh-purpose"]
    assert json.loads(req.content) == {
        "iin": ME,
        "text": "eGov: hello",
        "reference": "notification:1",
    }

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    down = GatewayClient(
        "http://gateway.test", client_code="gateway", transport=httpx.MockTransport(refuse)
    )
    try:
        result = await RoutedSmsSender(down).send(ME, "x", "notification:4")
        assert not result.ok and not result.permanent and "unreachable" in (result.error or "")
    finally:
        await down.aclose()


async def test_a_term_breach_is_an_important_notification(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    app_id = str(uuid.uuid4())
    due = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    await sw.deliver(
        ApplicationOverdue(
            application_id=app_id,
            service_code="rg-birth-certificate",
            applicant_iin=ME,
            agency="registry",
            due_at=due,
            detected_at=due,
        ),
        subject=app_id,
    )
    [n] = (await inbox(sw, lang="en"))["items"]
    assert n["kind"] == "sla_breach" and n["important"] is True and n["sms"] == "pending"
    assert n["title"] == "The term of the service was breached"
    assert "30 November 2026" in n["body"] and n["ref_id"] == app_id


def test_a_licence_is_named_in_words_even_one_the_catalogue_lacks() -> None:
    from egov_gateway.singlewindow.notifications.domain import model
    from egov_gateway.singlewindow.notifications.service_layer.handlers import licence_name

    assert licence_name("PHARMACY")["kk"].startswith("Фармацевтикалық қызмет")
    assert licence_name("NO_SUCH_TYPE") == model.SOME_LICENCE
    draft = model.license_overdue(ME, "LA-9", licence_name("NO_SUCH_TYPE"))
    assert "NO_SUCH_TYPE" not in str(draft.body) and draft.body["en"] == "Licence"
