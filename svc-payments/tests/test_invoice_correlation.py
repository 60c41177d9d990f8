"""An invoice's later events belong to the process it was issued for (DESIGN §5): paid at the
bank or cancelled in requests that know nothing of that process, they still carry its
correlationid; their causationid is the request that moved them."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from payments_harness import Payments, new_iin

ISSUED = "kz.egov.payments.invoice.issued.v1"
PAID = "kz.egov.payments.invoice.paid.v1"
CANCELLED = "kz.egov.payments.invoice.cancelled.v1"


async def issue(svc: Payments, headers: dict[str, str]) -> dict[str, Any]:
    r = await svc.call(
        "POST",
        "/invoices",
        client="notary",
        json_body={
            "payer": new_iin(),
            "amount_tiyn": 250_000,
            "currency": "KZT",
            "purpose": "Нотариаттық әрекет үшін алым",
            "kbk": "108114",
            "beneficiary_agency": "notary",
            "due_date": (date.today() + timedelta(days=10)).isoformat(),
            "reference": f"ACT-{uuid.uuid4().hex[:8]}",
        },
        headers={"Idempotency-Key": uuid.uuid4().hex, **headers},
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_paid_at_the_bank_the_invoice_keeps_the_application(svc: Payments) -> None:
    app_id = str(uuid.uuid4())
    step = f"{app_id}.2.1"  # the single window's step request, naming its application
    inv = await issue(svc, {"X-Request-Id": step, "X-Correlation-Id": app_id})
    [issued] = await svc.events(ISSUED, inv["id"])
    assert issued["correlationid"] == app_id and issued["causationid"] == step
    assert issued["data"]["currency"] == "KZT"

    await svc.pay(inv)  # the payer at the bank's page, then the bank's callback: no app here
    [paid] = await svc.events(PAID, inv["id"])
    assert paid["correlationid"] == app_id
    # caused by the bank's callback, not by the step that issued the invoice
    assert paid["causationid"] and paid["causationid"] not in (step, app_id, issued["id"])


async def test_an_invoice_of_no_application_is_its_issuing_requests(svc: Payments) -> None:
    inv = await issue(svc, {"X-Request-Id": "req-issue-0001"})
    [issued] = await svc.events(ISSUED, inv["id"])
    assert issued["correlationid"] == "req-issue-0001"
    r = await svc.call(
        "POST",
        f"/invoices/{inv['id']}/cancel",
        client="notary",
        json_body={"reason": "the act was revoked"},
        headers={"X-Request-Id": "req-cancel-0002", "X-Correlation-Id": "other-process-1"},
    )
    assert r.status_code == 200, r.text
    [cancelled] = await svc.events(CANCELLED, inv["id"])
    # the invoice's process, not the canceller's
    assert cancelled["correlationid"] == "req-issue-0001"
    assert cancelled["causationid"] == "req-cancel-0002"
