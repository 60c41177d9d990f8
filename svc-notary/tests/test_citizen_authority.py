"""Issue 15 — no confused deputy: a citizen who applies to a notary (directly or through the
single window, which now calls as the citizen) is bound to the act they ask for: a buyer or
seller of a sale, the principal of a power of attorney, the applicant of a certified copy.
A sale may omit its sellers: the notary takes the owners from the real estate register."""

from __future__ import annotations

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

from egov_notary.service_layer.services import NOT_AN_APPLICANT
from meshkit.problems import PROBLEM_JSON


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
