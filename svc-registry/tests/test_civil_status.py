"""Births and deaths, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from meshkit.ids import parse_iin
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.registry import DECEASED, FATHER, MOTHER, OTHER, UNKNOWN, Registry


def birth(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "surname": "Сәрсенбаев",
        "given_name": "Нұрсұлтан",
        "patronymic": "Әлиханұлы",
        "birth_date": "2026-01-05",
        "sex": "male",
        "place": "Астана қ., №1 перинаталдық орталық",
        "mother_iin": MOTHER,
        "father_iin": FATHER,
    }
    body.update(over)
    return body


async def test_birth_creates_the_child_in_identity_and_publishes(registry: Registry) -> None:
    r = await registry.call("POST", "/births", json=birth(), headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 201, r.text
    act = r.json()
    child = parse_iin(act["child_iin"])
    assert (child.birth_date, child.sex) == (date(2026, 1, 5), "male")
    assert act["act_number"].startswith("B-") and act["given_name"] == "Нұрсұлтан"
    # identity was asked through the gateway: parents checked, child created with the parents
    creations = registry.identity.creations()
    assert len(creations) == 1 and creations[0]["body"]["mother_iin"] == MOTHER
    assert creations[0]["body"]["father_iin"] == FATHER
    assert creations[0]["idempotency_key"].startswith("registry-birth-")
    assert all(c["assertion"] and c["purpose"] for c in registry.identity.calls)
    assert {c["path"] for c in registry.identity.calls} >= {f"/persons/{MOTHER}", "/persons"}
    events = await registry.outbox_events("registry.birth.registered")
    assert len(events) == 1 and events[0].subject == act["child_iin"]
    assert events[0].data["mother_iin"] == MOTHER and events[0].data["father_iin"] == FATHER
    assert events[0].data["act_number"] == act["act_number"]
    # acts are read by number
    again = await registry.call("GET", f"/births/{act['act_number']}")
    assert again.status_code == 200 and again.json() == act


async def test_same_idempotency_key_returns_the_first_act(registry: Registry) -> None:
    key = {"Idempotency-Key": "birth-2026-0001"}
    first = await registry.call("POST", "/births", json=birth(), headers=key)
    second = await registry.call("POST", "/births", json=birth(), headers=key)
    assert first.status_code == 201 and second.status_code == 201
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert len(registry.identity.creations()) == 1
    assert len(await registry.outbox_events("registry.birth.registered")) == 1
    # same key, another body → 409
    other = await registry.call(
        "POST", "/births", json=birth(given_name="Айша", sex="female"), headers=key
    )
    assert other.status_code == 409 and other.headers["content-type"] == PROBLEM_JSON
    # another key is another birth (twins)
    twin = await registry.call(
        "POST", "/births", json=birth(given_name="Алихан"), headers={"Idempotency-Key": "k-twin"}
    )
    assert twin.status_code == 201 and twin.json()["child_iin"] != first.json()["child_iin"]
    assert twin.json()["act_number"] != first.json()["act_number"]


async def test_concurrent_retries_with_one_key_make_one_act(registry: Registry) -> None:
    key = {"Idempotency-Key": "burst-1"}
    answers = await asyncio.gather(
        *(registry.call("POST", "/births", json=birth(), headers=key) for _ in range(4))
    )
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert len({a.json()["act_number"] for a in answers}) == 1
    assert len({a.json()["child_iin"] for a in answers}) == 1
    assert len(await registry.outbox_events("registry.birth.registered")) == 1


async def test_parents_are_checked_in_identity(registry: Registry) -> None:
    cases = [
        (birth(mother_iin=UNKNOWN), "mother_iin", "not registered"),
        (birth(mother_iin=FATHER), "mother_iin", "female"),
        (birth(father_iin=OTHER), "father_iin", "male"),
        (birth(father_iin=DECEASED), "father_iin", "deceased"),
        (birth(birth_date="2099-01-01"), "birth_date", "future"),
    ]
    for body, field, words in cases:
        r = await registry.call("POST", "/births", json=body)
        assert r.status_code == 422, (body, r.text)
        assert words in r.json()["errors"][field], r.json()
    bad = await registry.call("POST", "/births", json=birth(mother_iin="920520446748"))
    assert bad.status_code == 422 and "check digit" in bad.json()["errors"]["mother_iin"]
    assert registry.identity.creations() == []
    assert await registry.outbox_events("registry.birth.registered") == []


async def test_a_parent_reads_their_childs_act_and_nobody_else_does(registry: Registry) -> None:
    act = (await registry.citizen("POST", "/births", MOTHER, json=birth(father_iin=None))).json()
    assert act["father_iin"] is None
    path = f"/births/{act['act_number']}"
    assert (await registry.citizen("GET", path, MOTHER)).status_code == 200
    assert (await registry.citizen("GET", path, act["child_iin"])).status_code == 200
    assert (await registry.citizen("GET", path, OTHER)).status_code == 403
    # a citizen cannot register somebody else's child
    r = await registry.citizen("POST", "/births", OTHER, json=birth())
    assert r.status_code == 403
    assert (await registry.call("GET", "/births/B-2026-9999999")).status_code == 404


async def test_the_gateway_assertion_is_required(registry: Registry) -> None:
    r = await registry.client.post("/births", json=birth())
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM_JSON
    assert registry.identity.calls == []


async def test_death_registration(registry: Registry) -> None:
    body = {"iin": FATHER, "date_of_death": "2026-02-01", "place": "Алматы қ."}
    r = await registry.call("POST", "/deaths", json=body, headers={"Idempotency-Key": "d-1"})
    assert r.status_code == 201, r.text
    act = r.json()
    assert act["act_number"].startswith("D-") and act["iin"] == FATHER
    replay = await registry.call("POST", "/deaths", json=body, headers={"Idempotency-Key": "d-1"})
    assert replay.status_code == 201 and replay.json() == act
    # a second death act for the same person is refused
    twice = await registry.call("POST", "/deaths", json=body, headers={"Idempotency-Key": "d-2"})
    assert twice.status_code == 409 and act["act_number"] in twice.json()["detail"]
    events = await registry.outbox_events("registry.death.registered")
    assert [e.data["iin"] for e in events] == [FATHER] and events[0].subject == FATHER
    assert (await registry.call("GET", f"/deaths/{act['act_number']}")).json() == act
    assert (
        await registry.citizen("GET", f"/deaths/{act['act_number']}", MOTHER)
    ).status_code == 403
    assert (await registry.citizen("POST", "/deaths", MOTHER, json=body)).status_code == 403
    for wrong, field in [
        ({"iin": UNKNOWN}, "iin"),
        ({"iin": MOTHER, "date_of_death": "1980-01-01"}, "date_of_death"),
        ({"iin": MOTHER, "date_of_death": "2999-01-01"}, "date_of_death"),
    ]:
        r = await registry.call("POST", "/deaths", json={**body, **wrong})
        assert r.status_code == 422 and field in r.json()["errors"], r.text
    already = await registry.call("POST", "/deaths", json={**body, "iin": DECEASED})
    assert already.status_code == 409
