"""Invoices: issue with Idempotency-Key, read and list with authorisation, cancel, expire."""

from __future__ import annotations

import uuid
from datetime import timedelta

from payments_harness import Payments, new_bin, new_iin

from egov_payments.service_layer import services


async def test_same_key_same_body_returns_the_first_invoice(svc: Payments) -> None:
    payer = new_iin()
    key = uuid.uuid4().hex
    first = await svc.create_invoice(payer=payer, key=key, reference="LIC-1")
    body = {
        k: first[k]
        for k in ("payer", "amount_tiyn", "purpose", "kbk", "beneficiary_agency", "reference")
    }
    body["due_date"] = first["due_date"]
    r = await svc.call("POST", "/invoices", json_body=body, headers={"Idempotency-Key": key})
    assert r.status_code == 201 and r.json()["id"] == first["id"]
    assert r.headers["idempotent-replayed"] == "true"
    # the same key with another body is a conflict
    r = await svc.call(
        "POST", "/invoices", json_body={**body, "amount_tiyn": 1}, headers={"Idempotency-Key": key}
    )
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in r.json()["detail"]
    # one invoice, one InvoiceIssued
    assert len(await svc.events("kz.egov.payments.invoice.issued.v1")) == 1
    # another agency using the same key is another scope
    r = await svc.call(
        "POST",
        "/invoices",
        client="licensing",
        json_body={**body, "beneficiary_agency": "licensing"},
        headers={"Idempotency-Key": key},
    )
    assert r.status_code == 201 and r.json()["id"] != first["id"]


async def test_invoice_input_is_validated(svc: Payments) -> None:
    good = {
        "payer": new_iin(),
        "amount_tiyn": 100,
        "purpose": "x",
        "kbk": "108114",
        "beneficiary_agency": "registry",
        "due_date": "2099-01-01",
        "reference": "r",
    }
    r = await svc.call("POST", "/invoices", json_body=good)  # no Idempotency-Key
    assert r.status_code == 422 and "header.Idempotency-Key" in r.json()["errors"]
    key = {"Idempotency-Key": "k1"}
    r = await svc.call(
        "POST", "/invoices", json_body={**good, "payer": "900115300123"}, headers=key
    )
    assert r.status_code == 422 and "check digit" in r.json()["errors"]["payer"]
    r = await svc.call("POST", "/invoices", json_body={**good, "amount_tiyn": 15.5}, headers=key)
    assert r.status_code == 422 and "amount_tiyn" in r.json()["errors"]
    r = await svc.call("POST", "/invoices", json_body={**good, "kbk": "10811"}, headers=key)
    assert r.status_code == 422 and "kbk" in r.json()["errors"]
    r = await svc.call(
        "POST", "/invoices", json_body={**good, "due_date": "2001-01-01"}, headers=key
    )
    assert r.status_code == 422 and "due_date" in r.json()["errors"]
    # a citizen does not issue invoices; an agency only to its own budget
    r = await svc.call(
        "POST", "/invoices", client="citizen", user=good["payer"], json_body=good, headers=key
    )
    assert r.status_code == 403
    r = await svc.call("POST", "/invoices", client="notary", json_body=good, headers=key)
    assert r.status_code == 403
    # nor does the gateway's own client: it acts for citizens on their authority, and bills
    # for no agency (issue 15: no confused deputy)
    r = await svc.call("POST", "/invoices", client="gateway", json_body=good, headers=key)
    assert r.status_code == 403
    r = await svc.call("POST", "/invoices", client="registry", json_body=good, headers=key)
    assert r.status_code == 201 and r.json()["beneficiary_agency"] == "registry"
    # without the gateway's assertion nothing is answered
    r = await svc.client.post("/invoices", json=good, headers=key)
    assert r.status_code == 401


async def test_who_sees_an_invoice(svc: Payments) -> None:
    payer, stranger = new_iin(), new_iin()
    inv = await svc.create_invoice(payer=payer)
    assert (await svc.as_citizen("GET", f"/invoices/{inv['id']}", payer)).status_code == 200
    assert (await svc.as_citizen("GET", f"/invoices/{inv['id']}", stranger)).status_code == 403
    read = await svc.call("GET", f"/invoices/{inv['id']}", client="registry")
    # the agency's read names the payer, so the gateway shows it in the payer's data tracker
    assert read.status_code == 200 and read.headers["x-mesh-data-subject"] == payer
    assert (await svc.call("GET", f"/invoices/{inv['id']}", client="notary")).status_code == 403
    r = await svc.call("GET", "/invoices/inv_nope", client="registry")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"

    r = await svc.call("GET", f"/invoices?payer={payer}", client="citizen", user=payer)
    assert r.status_code == 200 and [i["id"] for i in r.json()] == [inv["id"]]
    r = await svc.call("GET", f"/invoices?payer={payer}", client="citizen", user=stranger)
    assert r.status_code == 403
    r = await svc.call("GET", "/invoices", client="citizen", user=stranger)
    assert r.status_code == 200 and r.json() == []
    r = await svc.call("GET", "/invoices?payer=123", client="citizen", user=payer)
    assert r.status_code == 422
    r = await svc.call("GET", f"/invoices?payer={payer}", client="notary")
    assert r.status_code == 200 and r.json() == []


async def test_invoice_to_a_bin_is_visible_to_its_representative(svc: Payments) -> None:
    director, bin_ = new_iin(), new_bin()
    inv = await svc.create_invoice(payer=bin_, payer_representative_iin=director)
    r = await svc.call("GET", "/invoices", client="citizen", user=director)
    assert [i["id"] for i in r.json()] == [inv["id"]]
    assert (await svc.start_payment(inv, payer=director))["status"] == "pending"


async def test_cancel_by_the_beneficiary_only(svc: Payments) -> None:
    inv = await svc.create_invoice()
    r = await svc.call(
        "POST", f"/invoices/{inv['id']}/cancel", client="notary", json_body={"reason": "x"}
    )
    assert r.status_code == 403
    r = await svc.as_citizen("POST", f"/invoices/{inv['id']}/cancel", inv["payer"])
    assert r.status_code == 403
    r = await svc.call(
        "POST", f"/invoices/{inv['id']}/cancel", json_body={"reason": "Өтініш қайтарылды"}
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await svc.call("POST", f"/invoices/{inv['id']}/cancel")
    assert r.status_code == 409
    events = await svc.events("kz.egov.payments.invoice.cancelled.v1", inv["id"])
    assert [e["data"]["reason"] for e in events] == ["Өтініш қайтарылды"]
    r = await svc.as_citizen("POST", f"/invoices/{inv['id']}/payments", inv["payer"])
    assert r.status_code == 409


async def test_overdue_invoices_expire_once(svc: Payments) -> None:
    today = svc.clock.today()
    due_today = await svc.create_invoice(due_date=today)
    later = await svc.create_invoice(due_date=today + timedelta(days=5))
    assert await services.expire_overdue(svc.uows, clock=svc.clock, today=today) == 0
    tomorrow = today + timedelta(days=1)
    assert await services.expire_overdue(svc.uows, clock=svc.clock, today=tomorrow) == 1
    assert await services.expire_overdue(svc.uows, clock=svc.clock, today=tomorrow) == 0
    assert (await svc.invoice(due_today["id"]))["status"] == "expired"
    assert (await svc.invoice(later["id"]))["status"] == "issued"
    assert len(await svc.events("kz.egov.payments.invoice.expired.v1", due_today["id"])) == 1
