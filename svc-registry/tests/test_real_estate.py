"""Real estate: objects, owners, encumbrances, and transfers by registered notarial sales."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from egov_registry.handlers import handlers
from meshkit.contracts.notary import ActRegistered
from meshkit.events import build_envelope
from meshkit.events import registry as event_types
from meshkit_testing.registry import FATHER, FOUNDER_B, MOTHER, OTHER, Registry

FLAT = "21:318:010:123:4"


def half(iin: str) -> dict[str, Any]:
    return {"id": iin, "share": {"num": 1, "den": 2}}


def flat(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cadastral_number": FLAT,
        "kind": "apartment",
        "address": "Астана қ., Есіл ауданы, Қабанбай батыр даңғылы, 11, 45-пәтер",
        "area_m2": "78.50",
        "owners": [half(MOTHER), half(FATHER)],
    }
    body.update(over)
    return body


def sale(
    act: str, sellers: list[dict[str, Any]], buyers: list[dict[str, Any]], **over: Any
) -> ActRegistered:
    data: dict[str, Any] = {
        "act_number": act,
        "kind": "property_sale",
        "notary_iin": OTHER,
        "registered_at": datetime.now(UTC).isoformat(),
        "parties": [h["id"] for h in sellers + buyers],
        "cadastral_number": FLAT,
        "sellers": sellers,
        "buyers": buyers,
        "price_tiyn": 4_500_000_000,
    }
    data.update(over)
    return ActRegistered.model_validate(data)


async def deliver(registry: Registry, act: ActRegistered) -> None:
    """What the consumer does with one event: its handlers and one commit."""
    envelope = build_envelope(act, source="/svc-notary", subject=act.act_number)
    typed = event_types.parse(envelope)
    uow = registry.runtime.uow_factory()
    async with uow:
        for handler in handlers.handlers_for(envelope.type):
            await handler(typed, uow)
        await uow.commit()


async def owners(registry: Registry) -> dict[str, tuple[int, int]]:
    r = await registry.call("GET", f"/properties/{FLAT}")
    assert r.status_code == 200, r.text
    return {o["id"]: (o["share"]["num"], o["share"]["den"]) for o in r.json()["owners"]}


async def test_register_and_read_objects(registry: Registry) -> None:
    r = await registry.call("POST", "/properties", json=flat())
    assert r.status_code == 201, r.text
    assert r.json()["area_m2"] == 78.5 and r.json()["kind"] == "apartment"
    assert (await registry.call("POST", "/properties", json=flat())).status_code == 409
    lopsided = flat(cadastral_number="21:318:010:123:5", owners=[half(MOTHER)])
    r = await registry.call("POST", "/properties", json=lopsided)
    assert r.status_code == 422 and "owners" in r.json()["errors"]
    bad = await registry.call("POST", "/properties", json=flat(cadastral_number="21-318"))
    assert bad.status_code == 422 and "cadastral_number" in bad.json()["errors"]
    assert (await registry.citizen("POST", "/properties", MOTHER, json=flat())).status_code == 403
    assert await owners(registry) == {MOTHER: (1, 2), FATHER: (1, 2)}
    # a citizen sees their own objects, not others'
    mine = await registry.citizen("GET", "/properties", MOTHER, params={"holder": MOTHER})
    assert [p["cadastral_number"] for p in mine.json()["items"]] == [FLAT]
    assert (await registry.citizen("GET", f"/properties/{FLAT}", FATHER)).status_code == 200
    assert (await registry.citizen("GET", f"/properties/{FLAT}", OTHER)).status_code == 403
    others = await registry.citizen("GET", "/properties", OTHER, params={"holder": MOTHER})
    assert others.status_code == 403
    none = await registry.call("GET", "/properties", params={"holder": OTHER})
    assert none.status_code == 200 and none.json()["items"] == []
    invalid = await registry.call("GET", "/properties", params={"holder": "123456789012"})
    assert invalid.status_code == 422
    assert (await registry.call("GET", "/properties/21:318:010:999:1")).status_code == 404


async def test_encumbrances_are_imposed_and_released(registry: Registry) -> None:
    await registry.call("POST", "/properties", json=flat())
    lifts = (datetime.now(UTC) + timedelta(days=3650)).isoformat()
    r = await registry.call(
        "POST",
        f"/properties/{FLAT}/encumbrances",
        json={"kind": "mortgage", "imposed_by": "«Қазақстан Халық Банкі» АҚ", "lifts_at": lifts},
    )
    assert r.status_code == 201, r.text
    mortgage = r.json()
    assert (
        mortgage["imposed_by"] == "«Қазақстан Халық Банкі» АҚ" and mortgage["released_at"] is None
    )
    arrest = await registry.call(
        "POST",
        f"/properties/{FLAT}/encumbrances",
        json={"kind": "arrest", "basis": "сот ұйғарымы"},
        client="bailiffs",
    )
    assert arrest.json()["imposed_by"] == "bailiffs"
    listed = (await registry.call("GET", f"/properties/{FLAT}")).json()["encumbrances"]
    assert [e["kind"] for e in listed] == ["mortgage", "arrest"]
    released = await registry.call(
        "POST", f"/encumbrances/{arrest.json()['id']}/release", json={"reason": "сот шешімі"}
    )
    assert released.status_code == 200 and released.json()["released_at"] is not None
    again = await registry.call("POST", f"/encumbrances/{arrest.json()['id']}/release")
    assert again.status_code == 409
    assert (await registry.call("POST", f"/encumbrances/{uuid.uuid4()}/release")).status_code == 404
    past = await registry.call(
        "POST",
        f"/properties/{FLAT}/encumbrances",
        json={"kind": "arrest", "lifts_at": "2001-01-01T00:00:00Z"},
    )
    assert past.status_code == 422
    citizen = await registry.citizen(
        "POST", f"/properties/{FLAT}/encumbrances", MOTHER, json={"kind": "arrest"}
    )
    assert citizen.status_code == 403


async def test_a_registered_sale_transfers_exact_shares(registry: Registry) -> None:
    await registry.call("POST", "/properties", json=flat())
    quarter = {"num": 1, "den": 4}
    act = sale(
        "NA-2026-000001",
        sellers=[half(MOTHER)],
        buyers=[{"id": OTHER, "share": quarter}, {"id": FOUNDER_B, "share": quarter}],
    )
    await deliver(registry, act)
    assert await owners(registry) == {FATHER: (1, 2), OTHER: (1, 4), FOUNDER_B: (1, 4)}
    events = await registry.outbox_events("registry.property.transferred")
    assert len(events) == 1 and events[0].subject == FLAT
    assert events[0].data["act_number"] == "NA-2026-000001"
    assert {o["id"] for o in events[0].data["owners_after"]} == {FATHER, OTHER, FOUNDER_B}
    # the same act delivered again (a new event id: the inbox cannot catch it) → one transfer
    await deliver(registry, act)
    assert await owners(registry) == {FATHER: (1, 2), OTHER: (1, 4), FOUNDER_B: (1, 4)}
    assert len(await registry.outbox_events("registry.property.transferred")) == 1
    assert await registry.outbox_events("registry.property.transfer_rejected") == []


async def test_a_transfer_under_arrest_is_rejected_and_changes_nothing(registry: Registry) -> None:
    await registry.call("POST", "/properties", json=flat())
    await registry.call(
        "POST",
        f"/properties/{FLAT}/encumbrances",
        json={"kind": "arrest", "imposed_by": "Астана қ. сотты"},
    )
    await deliver(registry, sale("NA-2026-000002", [half(MOTHER)], [half(OTHER)]))
    assert await owners(registry) == {MOTHER: (1, 2), FATHER: (1, 2)}
    rejected = await registry.outbox_events("registry.property.transfer_rejected")
    assert len(rejected) == 1 and "arrest" in rejected[0].data["reason"]
    assert rejected[0].data["act_number"] == "NA-2026-000002"
    assert await registry.outbox_events("registry.property.transferred") == []


async def test_a_seller_who_no_longer_owns_the_share_is_rejected(registry: Registry) -> None:
    await registry.call("POST", "/properties", json=flat())
    await deliver(registry, sale("NA-1", [half(MOTHER)], [half(OTHER)]))
    # the mother sold her half already; a second sale of it is refused
    await deliver(registry, sale("NA-2", [half(MOTHER)], [half(FOUNDER_B)]))
    # a seller selling more than they hold is refused
    whole = {"id": FATHER, "share": {"num": 1, "den": 1}}
    await deliver(
        registry, sale("NA-3", [whole], [{"id": FOUNDER_B, "share": {"num": 1, "den": 1}}])
    )
    # sellers and buyers that do not balance, and an unknown object
    await deliver(
        registry, sale("NA-4", [half(FATHER)], [{"id": FOUNDER_B, "share": {"num": 1, "den": 3}}])
    )
    await deliver(
        registry,
        sale("NA-5", [half(FATHER)], [half(FOUNDER_B)], cadastral_number="21:318:010:999:9"),
    )
    assert await owners(registry) == {OTHER: (1, 2), FATHER: (1, 2)}
    reasons = {
        e.data["act_number"]: e.data["reason"]
        for e in await registry.outbox_events("registry.property.transfer_rejected")
    }
    assert "no longer owns" in reasons["NA-2"]
    assert "owns 1/2" in reasons["NA-3"]
    assert "receive" in reasons["NA-4"]
    assert "no real-estate object" in reasons["NA-5"]
    # other notarial acts are not the registry's business
    poa = sale("NA-6", [], [], kind="power_of_attorney", cadastral_number=None)
    await deliver(registry, poa)
    assert len(await registry.outbox_events("registry.property.transfer_rejected")) == 4


async def test_a_mortgage_does_not_block_a_sale(registry: Registry) -> None:
    await registry.call("POST", "/properties", json=flat())
    await registry.call("POST", f"/properties/{FLAT}/encumbrances", json={"kind": "mortgage"})
    # a released arrest no longer blocks
    arrest = await registry.call(
        "POST", f"/properties/{FLAT}/encumbrances", json={"kind": "arrest"}
    )
    await registry.call("POST", f"/encumbrances/{arrest.json()['id']}/release")
    await deliver(
        registry,
        sale("NA-7", [half(MOTHER), half(FATHER)], [{"id": OTHER, "share": {"num": 1, "den": 1}}]),
    )
    assert await owners(registry) == {OTHER: (1, 1)}
    mine = await registry.citizen("GET", "/properties", OTHER, params={"holder": OTHER})
    assert mine.json()["items"][0]["encumbrances"][0]["kind"] == "mortgage"
