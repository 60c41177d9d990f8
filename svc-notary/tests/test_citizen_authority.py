"""Issue 15 — no confused deputy: a citizen who applies to a notary (directly or through the
single window, which now calls as the citizen) is bound to the act they ask for: a buyer or
seller of a sale, the principal of a power of attorney, the applicant of a certified copy.
A sale may omit its sellers: the notary takes the owners from the real estate register.
A party who applies withdraws the act while it is unregistered (the single window's
compensation does so as the applicant), and its unpaid fee invoice is cancelled."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from conftest import (
    ATTORNEY,
    BUYER,
    CADASTRAL,
    NOTARY_IIN,
    SELLER_A,
    SELLER_B,
    STRANGER,
    Notary,
    poa_draft,
    sale_draft,
)

from egov_notary.domain.acts import (
    NOT_A_WITHDRAWING_PARTY,
    POA_REVOKED_BY,
    REVOKED_BY_THE_NOTARY,
)
from egov_notary.service_layer.services import NOT_AN_APPLICANT
from meshkit.auth.assertion import sign_assertion
from meshkit.contracts.common import Holder, Share
from meshkit.contracts.notary import ActRevoked
from meshkit.contracts.registry import PropertyTransferred
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.apps import json_body


def sale_without_sellers(**extra: Any) -> dict[str, Any]:
    body = sale_draft(notary_iin=NOTARY_IIN, **extra)
    del body["sellers"]
    return body


def copy_draft(applicant: str) -> dict[str, Any]:
    return {
        "kind": "copy_certification",
        "notary_iin": NOTARY_IIN,
        "applicant_iin": applicant,
        "document_title": "Диплом бакалавра",
        "document_sha256": "ab" * 32,
        "pages": 2,
    }


def refused(r: httpx.Response, detail: str) -> None:
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["detail"] == detail


async def test_a_buyer_applies_for_a_sale_and_the_sellers_come_from_the_register(
    notary: Notary,
) -> None:
    r = await notary.call("POST", "/acts", user=BUYER, json=sale_without_sellers())
    assert r.status_code == 201, r.text
    act = r.json()
    assert act["status"] == "checks_passed", act
    assert act["notary"]["iin"] == NOTARY_IIN
    assert act["terms"]["sellers"] == [
        {"iin": SELLER_A, "share": {"num": 2, "den": 3}},
        {"iin": SELLER_B, "share": {"num": 1, "den": 3}},
    ]
    assert {p["iin"]: p["role"] for p in act["parties"]} == {
        SELLER_A: "seller",
        SELLER_B: "seller",
        BUYER: "buyer",
    }
    assert act["history"][0]["actor"] == f"citizen:{BUYER}"
    # the fee is billed to the buyer, and the buyer follows the act
    assert notary.mesh.invoices[act["id"]].payer == BUYER
    assert (await notary.act(act["id"], user=BUYER))["id"] == act["id"]
    # but the notary's own operations stay the notary's
    r = await notary.call("POST", f"/acts/{act['id']}/checks", user=BUYER)
    assert r.status_code == 403
    # the single window's compensation: a party withdraws the unregistered act
    r = await notary.call(
        "POST", f"/acts/{act['id']}/revoke", user=BUYER, json={"reason": "compensated"}
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text


async def test_a_seller_applies_for_a_sale_naming_the_sellers(notary: Notary) -> None:
    r = await notary.call("POST", "/acts", user=SELLER_A, json=sale_draft(notary_iin=NOTARY_IIN))
    assert r.status_code == 201 and r.json()["status"] == "checks_passed", r.text
    # sellers given are checked against the register as before
    wrong = sale_draft(
        notary_iin=NOTARY_IIN,
        sellers=[{"iin": STRANGER, "share": {"num": 1, "den": 1}}],
    )
    r = await notary.call("POST", "/acts", user=BUYER, json=wrong)
    assert r.status_code == 201 and r.json()["status"] == "blocked", r.text
    assert f"seller {STRANGER} is not an owner" in r.json()["status_reason"]


async def test_a_stranger_cannot_draft_a_sale_of_somebody_elses_flat(notary: Notary) -> None:
    detail = NOT_AN_APPLICANT["property_sale"]
    assert detail == "you can apply for a property sale only as a buyer or a seller"
    refused(await notary.call("POST", "/acts", user=STRANGER, json=sale_without_sellers()), detail)
    explicit = sale_draft(notary_iin=NOTARY_IIN)
    refused(await notary.call("POST", "/acts", user=STRANGER, json=explicit), detail)
    # in their own name, without being a notary or a party
    r = await notary.call("POST", "/acts", user=STRANGER, json=sale_draft())
    assert r.status_code == 403 and "not a licensed notary" in r.json()["detail"]
    assert notary.mesh.invoices == {}


async def test_a_party_names_the_notary(notary: Notary) -> None:
    body = sale_without_sellers()
    del body["notary_iin"]
    r = await notary.call("POST", "/acts", user=BUYER, json=body)
    assert r.status_code == 422 and r.json()["errors"] == {"notary_iin": "required"}
    r = await notary.call("POST", "/acts", user=BUYER, json={**body, "notary_iin": STRANGER})
    assert r.status_code == 422 and r.json()["errors"] == {"notary_iin": "not a notary"}


async def test_sellers_omitted_for_an_unknown_property_is_422(notary: Notary) -> None:
    r = await notary.call(
        "POST", "/acts", user=BUYER, json=sale_without_sellers(cadastral="21:320:101:999")
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"cadastral_number": "not in the real estate register"}


async def test_the_notary_and_agencies_may_omit_the_sellers_too(notary: Notary) -> None:
    r = await notary.call("POST", "/acts", user=NOTARY_IIN, json=sale_without_sellers())
    assert r.status_code == 201 and r.json()["status"] == "checks_passed", r.text
    r = await notary.call(
        "POST", "/acts", client="gateway", user=BUYER, json=sale_without_sellers()
    )
    assert r.status_code == 201 and r.json()["status"] == "checks_passed", r.text
    assert {p["iin"] for p in r.json()["parties"]} == {SELLER_A, SELLER_B, BUYER}
    assert r.json()["terms"]["cadastral_number"] == CADASTRAL


async def test_only_the_principal_applies_for_a_power_of_attorney(notary: Notary) -> None:
    body = poa_draft(notary_iin=NOTARY_IIN)  # principal SELLER_A, attorney ATTORNEY
    detail = "you can apply for a power of attorney only as its principal"
    refused(await notary.call("POST", "/acts", user=ATTORNEY, json=body), detail)
    refused(await notary.call("POST", "/acts", user=STRANGER, json=body), detail)
    r = await notary.call("POST", "/acts", user=SELLER_A, json=body)
    assert r.status_code == 201 and r.json()["status"] == "checks_passed", r.text
    assert notary.mesh.invoices[r.json()["id"]].payer == SELLER_A
    # the notary drafts for the principal, as before
    assert (
        await notary.call("POST", "/acts", user=NOTARY_IIN, json=poa_draft())
    ).status_code == 201


async def test_only_the_applicant_applies_for_a_certified_copy(notary: Notary) -> None:
    refused(
        await notary.call("POST", "/acts", user=STRANGER, json=copy_draft(SELLER_A)),
        "you can apply for a certified copy only of your own document",
    )
    r = await notary.call("POST", "/acts", user=SELLER_A, json=copy_draft(SELLER_A))
    assert r.status_code == 201, r.text
    r = await notary.call("POST", "/acts", client="gateway", user=SELLER_A, json=copy_draft(BUYER))
    assert r.status_code == 201, r.text


# -- a party withdraws an unregistered act (the single window's compensation) ---------------
COMPENSATED = {"reason": "composite service compensated"}


async def revoke_through_the_single_window(
    notary: Notary, act_id: str, applicant: str, body: dict[str, Any]
) -> httpx.Response:
    """``POST /acts/{id}/revoke`` as the gateway makes it for an application: the citizen's
    call (client citizen, user the applicant) with the assertion's actor claim ``gateway``."""
    path = f"/acts/{act_id}/revoke"
    token = sign_assertion(
        notary.gateway.ring.current,
        agency="notary",
        method="POST",
        path=path,
        client="citizen",
        user=applicant,
        request_id=f"req-{uuid.uuid4()}",
        purpose="cx-buy-home: compensation",
        actor="gateway",
        body=json_body(body),
    )
    headers = {"X-Mesh-Assertion": token}
    return await notary.client.post(path, json=body, headers=headers)


async def applied_sale(notary: Notary, applicant: str = BUYER) -> dict[str, Any]:
    r = await notary.call("POST", "/acts", user=applicant, json=sale_without_sellers())
    assert r.status_code == 201 and r.json()["status"] == "checks_passed", r.text
    act: dict[str, Any] = r.json()
    assert act["fee"]["invoice_id"]
    return act


async def registered(notary: Notary, act_id: str, signers: tuple[str, ...]) -> dict[str, Any]:
    for iin in signers:
        assert (await notary.sign(act_id, iin)).status_code == 200
    assert (await notary.sign(act_id, NOTARY_IIN, as_notary=True)).status_code == 200
    await notary.pay(act_id)
    act = await notary.act(act_id)
    assert act["status"] == "registered", act
    return act


async def test_the_buyer_withdraws_the_draft_and_its_fee_invoice_is_cancelled(
    notary: Notary,
) -> None:
    act = await applied_sale(notary)
    invoice_id = act["fee"]["invoice_id"]
    r = await revoke_through_the_single_window(notary, act["id"], BUYER, COMPENSATED)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "revoked" and out["status_reason"] == COMPENSATED["reason"]
    revoked, cancelled = out["history"][-2:]
    assert revoked["step"] == "revoked" and revoked["actor"] == f"citizen:{BUYER}"
    assert revoked["reason"] == COMPENSATED["reason"]
    assert cancelled["step"] == "invoice_cancelled" and invoice_id in cancelled["reason"]
    # payments was asked to cancel that invoice, on the buyer's behalf, with the reason
    [(cancelled_id, reason, _, user)] = notary.mesh.cancellations
    assert cancelled_id == invoice_id and user == BUYER
    assert reason == f"notarial act {act['id']} withdrawn: composite service compensated"
    assert notary.mesh.invoice(invoice_id).status == "cancelled"  # type: ignore[union-attr]
    # an unregistered act has no number: nothing to announce
    assert await notary.outbox(ActRevoked.event_type) == []
    # withdrawing twice is a conflict, and payments is not asked again
    again = await notary.call("POST", f"/acts/{act['id']}/revoke", user=BUYER, json=COMPENSATED)
    assert again.status_code == 409 and again.json()["detail"] == "the act is already revoked"
    assert len(notary.mesh.cancellations) == 1


async def test_a_seller_withdraws_a_partly_signed_act(notary: Notary) -> None:
    act = await applied_sale(notary)
    assert (await notary.sign(act["id"], SELLER_A)).status_code == 200
    assert (await notary.sign(act["id"], BUYER)).status_code == 200
    r = await notary.call(
        "POST", f"/acts/{act['id']}/revoke", user=SELLER_B, json={"reason": "I do not sell"}
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    assert r.json()["status_reason"] == "I do not sell"
    assert [c[0] for c in notary.mesh.cancellations] == [act["fee"]["invoice_id"]]


async def test_a_paid_fee_is_not_cancelled(notary: Notary) -> None:
    act = await applied_sale(notary)
    await notary.pay(act["id"])
    assert (await notary.act(act["id"]))["status"] == "fee_paid"
    r = await notary.call("POST", f"/acts/{act['id']}/revoke", user=BUYER, json=COMPENSATED)
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    assert notary.mesh.cancellations == []
    assert r.json()["history"][-1]["step"] == "revoked"


async def test_an_invoice_paid_meanwhile_stays_paid_and_the_history_says_so(
    notary: Notary,
) -> None:
    act = await applied_sale(notary)
    invoice_id = act["fee"]["invoice_id"]
    notary.mesh.set_invoice_status(invoice_id, "paid")  # the payment event is still on its way
    r = await notary.call("POST", f"/acts/{act['id']}/revoke", user=BUYER, json=COMPENSATED)
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    last = r.json()["history"][-1]
    assert last["step"] == "invoice_not_cancelled"
    assert last["reason"] == f"invoice {invoice_id} is paid"


async def test_payments_unreachable_changes_nothing_and_a_retry_withdraws(
    notary: Notary,
) -> None:
    act = await applied_sale(notary)
    notary.mesh.payments_down = True
    r = await revoke_through_the_single_window(notary, act["id"], BUYER, COMPENSATED)
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM_JSON, r.text
    assert (await notary.act(act["id"]))["status"] == "checks_passed"
    notary.mesh.payments_down = False
    r = await revoke_through_the_single_window(notary, act["id"], BUYER, COMPENSATED)
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    assert notary.mesh.invoice(act["fee"]["invoice_id"]).status == "cancelled"  # type: ignore[union-attr]


async def test_a_stranger_cannot_withdraw_nor_learn_of_the_act(notary: Notary) -> None:
    act = await applied_sale(notary)
    r = await notary.call("POST", f"/acts/{act['id']}/revoke", user=STRANGER, json=COMPENSATED)
    missing = str(uuid.uuid4())
    unknown = await notary.call("POST", f"/acts/{missing}/revoke", user=STRANGER, json=COMPENSATED)
    assert r.status_code == unknown.status_code == 404, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["detail"] == f"no notarial act {act['id']}"
    assert unknown.json()["detail"] == f"no notarial act {missing}"
    assert r.json()["title"] == unknown.json()["title"]
    # the same answer as reading it
    read = await notary.call("GET", f"/acts/{act['id']}", user=STRANGER)
    assert read.status_code == 404 and read.json()["detail"] == r.json()["detail"]
    assert (await notary.act(act["id"]))["status"] == "checks_passed"
    assert notary.mesh.cancellations == []


async def test_the_attorney_does_not_withdraw_the_principals_power_of_attorney(
    notary: Notary,
) -> None:
    r = await notary.call("POST", "/acts", user=SELLER_A, json=poa_draft(notary_iin=NOTARY_IIN))
    assert r.status_code == 201, r.text
    act_id = r.json()["id"]
    refused(
        await notary.call("POST", f"/acts/{act_id}/revoke", user=ATTORNEY, json=COMPENSATED),
        NOT_A_WITHDRAWING_PARTY["power_of_attorney"],
    )
    assert notary.mesh.cancellations == []
    r = await notary.call("POST", f"/acts/{act_id}/revoke", user=SELLER_A, json=COMPENSATED)
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text


async def test_a_registered_act_is_revoked_by_the_notary_not_by_a_party(notary: Notary) -> None:
    # a registered sale: nobody (the registry is executing it)
    sale = await applied_sale(notary)
    await registered(notary, sale["id"], (SELLER_A, SELLER_B, BUYER))
    for who in (BUYER, NOTARY_IIN):
        r = await notary.call("POST", f"/acts/{sale['id']}/revoke", user=who, json=COMPENSATED)
        assert r.status_code == 409 and "registered sale cannot be revoked" in r.json()["detail"]
    # a registered certified copy: the notary, not the applicant
    r = await notary.call("POST", "/acts", user=SELLER_A, json=copy_draft(SELLER_A))
    copy = await registered(notary, r.json()["id"], (SELLER_A,))
    path = f"/acts/{copy['id']}/revoke"
    refused(await notary.call("POST", path, user=SELLER_A, json=COMPENSATED), REVOKED_BY_THE_NOTARY)
    assert REVOKED_BY_THE_NOTARY == "a registered act is revoked by the notary"
    r = await notary.call("POST", path, user=NOTARY_IIN, json={"reason": "issued in error"})
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    [event] = await notary.outbox(ActRevoked.event_type)
    assert event["data"]["act_number"] == copy["number"]
    # a registered power of attorney: its principal (and the notary), not the attorney
    r = await notary.call("POST", "/acts", user=SELLER_A, json=poa_draft(notary_iin=NOTARY_IIN))
    poa = await registered(notary, r.json()["id"], (SELLER_A,))
    path = f"/acts/{poa['id']}/revoke"
    refused(await notary.call("POST", path, user=ATTORNEY, json=COMPENSATED), POA_REVOKED_BY)
    r = await notary.call("POST", path, user=SELLER_A, json={"reason": "the principal revokes"})
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    # nothing of this touched an invoice: a registered act's fee is paid
    assert notary.mesh.cancellations == []


async def test_an_executed_sale_is_not_revoked(notary: Notary) -> None:
    sale = await applied_sale(notary)
    act = await registered(notary, sale["id"], (SELLER_A, SELLER_B, BUYER))
    await notary.deliver(
        PropertyTransferred(
            cadastral_number=CADASTRAL,
            act_number=act["number"],
            sellers=[],
            buyers=[],
            owners_after=[Holder(id=BUYER, share=Share(num=1, den=1))],
        ),
        source="/svc-registry",
    )
    r = await notary.call("POST", f"/acts/{sale['id']}/revoke", user=BUYER, json=COMPENSATED)
    assert r.status_code == 409 and r.json()["detail"] == "the act is already executed"


async def test_the_notary_and_agencies_withdraw_as_before_cancelling_the_fee(
    notary: Notary,
) -> None:
    first = await applied_sale(notary)
    r = await notary.call(
        "POST", f"/acts/{first['id']}/revoke", user=NOTARY_IIN, json={"reason": "the notary"}
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    second = await applied_sale(notary, SELLER_A)
    r = await notary.call(
        "POST", f"/acts/{second['id']}/revoke", client="court", json={"reason": "court order"}
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    assert [c[0] for c in notary.mesh.cancellations] == [
        first["fee"]["invoice_id"],
        second["fee"]["invoice_id"],
    ]


async def test_an_act_withdrawn_while_its_invoice_is_issued_does_not_keep_it(
    notary: Notary,
) -> None:
    async def withdraw(act_id: str) -> None:  # the buyer withdraws before the invoice lands
        r = await notary.call("POST", f"/acts/{act_id}/revoke", user=BUYER, json=COMPENSATED)
        assert r.status_code == 200, r.text

    notary.mesh.on_invoice = withdraw
    r = await notary.call("POST", "/acts", user=BUYER, json=sale_without_sellers())
    assert r.status_code == 201, r.text
    act = await notary.act(r.json()["id"])
    assert act["status"] == "revoked"
    invoice_id = act["fee"]["invoice_id"]
    assert [c[0] for c in notary.mesh.cancellations] == [invoice_id]
    assert notary.mesh.invoice(invoice_id).status == "cancelled"  # type: ignore[union-attr]
    assert act["history"][-1]["step"] == "invoice_cancelled"
