"""SMS notices for the gateway's notifications, on SQLite and PostgreSQL: queued in the SMS
outbox to the registered phone (which never leaves identity unmasked), agencies only."""

from __future__ import annotations

from typing import Any

from meshkit.problems import PROBLEM_JSON

GULNUR = "920308400210"  # demo citizen with a registered phone
UNKNOWN = "900115300300"  # a valid IIN nobody holds


async def test_the_gateway_queues_a_notice_to_the_registered_phone(svc: Any) -> None:
    phone = (await svc.routed("GET", f"/persons/{GULNUR}")).json()["phone"]
    text = "eGov: Услуга оказана. pm-birth-allowance: completed — Қазына"
    r = await svc.routed(
        "POST",
        "/notifications/sms",
        client="gateway",
        user=GULNUR,
        json={"iin": GULNUR, "text": text, "reference": "notification:7"},
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["queued"] is True
    assert body["phone"] != phone and body["phone"][-2:] == phone[-2:] and "*" in body["phone"]
    sms = (await svc.client.get("/dev/sms", params={"phone": phone})).json()
    assert sms[0]["text"] == text and sms[0]["purpose"] == "notice"


async def test_notices_are_refused_to_citizens_and_for_unknown_people(svc: Any) -> None:
    payload = {"iin": GULNUR, "text": "hello"}
    r = await svc.as_citizen("POST", "/notifications/sms", GULNUR, json=payload)
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM_JSON
    r = await svc.routed(
        "POST", "/notifications/sms", client="gateway", json={"iin": UNKNOWN, "text": "hello"}
    )
    assert r.status_code == 404, r.text
    r = await svc.routed(
        "POST", "/notifications/sms", client="gateway", json={"iin": "123", "text": "hello"}
    )
    assert r.status_code == 422 and "iin" in r.json()["errors"]
    r = await svc.routed(
        "POST", "/notifications/sms", client="gateway", json={"iin": GULNUR, "text": ""}
    )
    assert r.status_code == 422
    # not through the gateway: refused
    r = await svc.client.post("/notifications/sms", json=payload)
    assert r.status_code in (401, 403) and r.headers["content-type"] == PROBLEM_JSON
