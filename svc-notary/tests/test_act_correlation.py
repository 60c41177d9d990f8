"""Every event of a notarial act carries the process it was drafted in (DESIGN §5): drafted as
a step of a single-window application, the act registered on the notary's signature (a request
of the notary's own) and executed on the registry's event still belong to that application;
their causationid is the request or event that moved them."""

from __future__ import annotations

import uuid
from typing import Any

from conftest import BUYER, CADASTRAL, NOTARY_IIN, SELLER_A, SELLER_B, Notary, sale_draft

from meshkit.contracts.common import Holder, Share
from meshkit.contracts.notary import ActExecuted, ActRegistered
from meshkit.contracts.registry import PropertyTransferred


async def draft_as_a_step(notary: Notary, app_id: str) -> dict[str, Any]:
    r = await notary.client.post(
        "/acts",
        json=sale_draft(),
        headers={"X-Request-Id": f"{app_id}.2.1", "X-Correlation-Id": app_id},
        auth=notary.gateway.auth("notary", client="citizen", user=NOTARY_IIN),
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_a_step_drafted_act_keeps_the_application_to_its_execution(
    notary: Notary,
) -> None:
    app_id = str(uuid.uuid4())
    act = await draft_as_a_step(notary, app_id)
    assert act["status"] == "checks_passed", act
    await notary.pay(act["id"])  # payments' event, in no request
    for iin in (SELLER_A, SELLER_B, BUYER):
        assert (await notary.sign(act["id"], iin)).status_code == 200
    # the last signature, in the notary's own request, registers the act
    r = await notary.sign(act["id"], NOTARY_IIN, as_notary=True)
    assert r.status_code == 200 and r.json()["status"] == "registered", r.text
    [registered] = await notary.outbox(ActRegistered.event_type)
    assert registered["correlationid"] == app_id
    cause = registered["causationid"]
    assert cause and cause not in (app_id, f"{app_id}.2.1"), cause  # the signature's request

    owners = [Holder(id=BUYER, share=Share(num=1, den=1))]
    await notary.deliver(
        PropertyTransferred(
            cadastral_number=CADASTRAL,
            act_number=r.json()["number"],
            sellers=[
                Holder(id=SELLER_A, share=Share(num=2, den=3)),
                Holder(id=SELLER_B, share=Share(num=1, den=3)),
            ],
            buyers=owners,
            owners_after=owners,
        ),
        source="/svc-registry",
    )
    [executed] = await notary.outbox(ActExecuted.event_type)
    assert executed["correlationid"] == app_id


async def test_an_act_drafted_directly_is_its_drafting_requests(notary: Notary) -> None:
    r = await notary.client.post(
        "/acts",
        json=sale_draft(),
        headers={"X-Request-Id": "req-draft-00001"},
        auth=notary.gateway.auth("notary", client="citizen", user=NOTARY_IIN),
    )
    assert r.status_code == 201, r.text
    await notary.pay(r.json()["id"])
    for iin in (SELLER_A, SELLER_B, BUYER):
        assert (await notary.sign(r.json()["id"], iin)).status_code == 200
    assert (await notary.sign(r.json()["id"], NOTARY_IIN, as_notary=True)).status_code == 200
    [registered] = await notary.outbox(ActRegistered.event_type)
    assert registered["correlationid"] == "req-draft-00001"
