"""Legal entities: registration with a new BIN, founders checked in identity, status, search."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from egov_registry.domain.common import kz_today
from meshkit.ids import parse_bin
from meshkit_testing.registry import DECEASED, FATHER, FOUNDER_B, MOTHER, OTHER, UNKNOWN, Registry


def llp(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name_kk": "«Көкжиек Технологиялары» ЖШС",
        "name_ru": "ТОО «Кокжиек Технологии»",
        "legal_form": "LLP",
        "founders": [
            {"id": FATHER, "share": {"num": 1, "den": 3}},
            {"id": FOUNDER_B, "share": {"num": 2, "den": 3}},
        ],
        "director_iin": MOTHER,
        "address": "Астана қ., Есіл ауданы, Сауран көшесі, 5",
        "activity_codes": ["62.01", "62020"],
        "application_ref": "app-42",
    }
    body.update(over)
    return body


async def test_registration_allocates_a_valid_bin_and_publishes(registry: Registry) -> None:
    r = await registry.call("POST", "/legal-entities", json=llp())
    assert r.status_code == 201, r.text
    entity = r.json()
    info = parse_bin(entity["bin"])
    today = kz_today(datetime.now(UTC))
    assert (info.entity_type, info.kind) == ("resident", "head")
    assert entity["bin"][:4] == f"{today:%y%m}"
    assert entity["status"] == "active"
    assert entity["founders"][0] == {"id": FATHER, "share": {"num": 1, "den": 3}}
    events = await registry.outbox_events("registry.legal_entity.registered")
    assert len(events) == 1 and events[0].subject == entity["bin"]
    assert events[0].data["application_ref"] == "app-42"
    assert events[0].data["founders"][1]["share"] == {"num": 2, "den": 3}
    # founders and director were checked in identity through the gateway
    checked = {c["path"] for c in registry.identity.calls}
    assert {f"/persons/{FATHER}", f"/persons/{FOUNDER_B}", f"/persons/{MOTHER}"} <= checked
    got = await registry.call("GET", f"/legal-entities/{entity['bin']}")
    assert got.status_code == 200 and got.json() == entity
    # a sole proprietorship (joint) gets entity type 6
    ip = await registry.call(
        "POST",
        "/legal-entities",
        json=llp(legal_form="SOLE_PROPRIETOR", name_ru="ИП «Сауле»", name_kk="«Сәуле» ЖК"),
    )
    assert (
        ip.status_code == 201
        and parse_bin(ip.json()["bin"]).entity_type == "individual_entrepreneur"
    )
    assert ip.json()["bin"] != entity["bin"]


async def test_founder_deceased_or_invalid_is_422_with_the_reason(registry: Registry) -> None:
    founders = [
        {"id": DECEASED, "share": {"num": 1, "den": 2}},
        {"id": FATHER, "share": {"num": 1, "den": 2}},
    ]
    r = await registry.call("POST", "/legal-entities", json=llp(founders=founders))
    assert r.status_code == 422
    assert r.json()["detail"] == f"founder {DECEASED} is deceased"
    assert r.json()["errors"] == {"founders.0.id": "is deceased"}

    bad = [{"id": "900115365297", "share": {"num": 1, "den": 1}}]
    r = await registry.call("POST", "/legal-entities", json=llp(founders=bad))
    assert r.status_code == 422
    assert "check digit" in r.json()["errors"]["founders.0.id"]

    unknown = [{"id": UNKNOWN, "share": {"num": 1, "den": 1}}]
    r = await registry.call("POST", "/legal-entities", json=llp(founders=unknown))
    assert r.status_code == 422 and "not registered" in r.json()["errors"]["founders.0.id"]

    r = await registry.call("POST", "/legal-entities", json=llp(director_iin=DECEASED))
    assert r.status_code == 422 and r.json()["detail"] == f"director {DECEASED} is deceased"
    assert await registry.outbox_events("registry.legal_entity.registered") == []


async def test_shares_must_add_up_to_exactly_one(registry: Registry) -> None:
    thirds = [
        {"id": FATHER, "share": {"num": 1, "den": 3}},
        {"id": FOUNDER_B, "share": {"num": 1, "den": 3}},
        {"id": OTHER, "share": {"num": 333, "den": 1000}},
    ]
    r = await registry.call("POST", "/legal-entities", json=llp(founders=thirds))
    assert r.status_code == 422 and "founders" in r.json()["errors"]
    exact = [*thirds[:2], {"id": OTHER, "share": {"num": 1, "den": 3}}]
    assert (
        await registry.call("POST", "/legal-entities", json=llp(founders=exact))
    ).status_code == 201
    twice = [{"id": FATHER, "share": {"num": 1, "den": 2}}] * 2
    r = await registry.call("POST", "/legal-entities", json=llp(founders=twice))
    assert r.status_code == 422 and r.json()["errors"] == {"founders.1.id": "listed twice"}
    r = await registry.call("POST", "/legal-entities", json=llp(activity_codes=["IT"]))
    assert r.status_code == 422 and "activity_codes.0" in r.json()["errors"]


async def test_entity_founders_and_sole_proprietor_rules(registry: Registry) -> None:
    parent = (await registry.call("POST", "/legal-entities", json=llp())).json()
    child = await registry.call(
        "POST",
        "/legal-entities",
        json=llp(founders=[{"id": parent["bin"], "share": {"num": 1, "den": 1}}]),
    )
    assert child.status_code == 201, child.text
    r = await registry.call(
        "POST",
        "/legal-entities",
        json=llp(
            legal_form="SOLE_PROPRIETOR",
            founders=[{"id": parent["bin"], "share": {"num": 1, "den": 1}}],
        ),
    )
    assert r.status_code == 422 and "IIN" in r.json()["errors"]["founders.0.id"]
    r = await registry.call(
        "POST",
        "/legal-entities",
        json=llp(founders=[{"id": "190440000012", "share": {"num": 1, "den": 1}}]),
    )
    assert r.status_code == 422


async def test_idempotent_registration_and_citizen_rules(registry: Registry) -> None:
    key = {"Idempotency-Key": "le-1"}
    # FATHER (a founder) names MOTHER as director and FOUNDER_B as co-founder: they consented
    registry.identity.consent(MOTHER)
    registry.identity.consent(FOUNDER_B)
    first = await registry.citizen("POST", "/legal-entities", FATHER, json=llp(), headers=key)
    again = await registry.citizen("POST", "/legal-entities", FATHER, json=llp(), headers=key)
    assert first.status_code == 201 and again.json()["bin"] == first.json()["bin"]
    assert len(await registry.outbox_events("registry.legal_entity.registered")) == 1
    # a citizen who neither founds nor directs it cannot register it
    assert (await registry.citizen("POST", "/legal-entities", OTHER, json=llp())).status_code == 403


async def test_status_changes_with_reasons_and_dates(registry: Registry) -> None:
    bin_ = (await registry.call("POST", "/legal-entities", json=llp())).json()["bin"]
    path = f"/legal-entities/{bin_}/status"
    r = await registry.call("POST", path, json={"status": "suspended", "reason": "налог берешегі"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended" and r.json()["status_reason"] == "налог берешегі"
    assert (
        await registry.call("POST", path, json={"status": "suspended", "reason": "x"})
    ).status_code == 409
    r = await registry.call(
        "POST", path, json={"status": "liquidated", "reason": "решение участников"}
    )
    assert r.status_code == 200 and r.json()["status"] == "liquidated"
    assert (
        await registry.call("POST", path, json={"status": "active", "reason": "x"})
    ).status_code == 409
    future = await registry.call(
        "POST", path, json={"status": "active", "reason": "x", "effective_date": "2999-01-01"}
    )
    assert future.status_code == 422
    events = await registry.outbox_events("registry.legal_entity.status_changed")
    assert [(e.data["old_status"], e.data["new_status"]) for e in events] == [
        ("active", "suspended"),
        ("suspended", "liquidated"),
    ]
    assert events[0].data["effective_date"] == kz_today(datetime.now(UTC)).isoformat()
    assert events[1].data["reason"] == "решение участников"
    assert (
        await registry.citizen("POST", path, MOTHER, json={"status": "active", "reason": "x"})
    ).status_code == 403
    assert (
        await registry.call(
            "POST", "/legal-entities/190440872732/status", json={"status": "active", "reason": "x"}
        )
    ).status_code == 404
    r = await registry.call("GET", "/legal-entities/123")
    assert r.status_code == 422 and "12 digits" in r.json()["errors"]["path.bin"]


async def test_search_by_name_any_case_paginated(registry: Registry) -> None:
    names = [
        ("«Алтын Дән» ЖШС", "ТОО «Алтын Дан»"),
        ("«Қызыл Ту» АҚ", "АО «Кызыл Ту»"),
        ("«Алтын Құм» ЖШС", "ТОО «Алтын Кум»"),
    ]
    for kk, ru in names:
        assert (
            await registry.call("POST", "/legal-entities", json=llp(name_kk=kk, name_ru=ru))
        ).status_code == 201
    r = await registry.call("GET", "/legal-entities", params={"q": "алтын", "limit": 1})
    page = r.json()
    assert r.status_code == 200 and page["total"] == 2 and len(page["items"]) == 1
    r2 = await registry.call(
        "GET", "/legal-entities", params={"q": "алтын", "limit": 1, "offset": 1}
    )
    assert r2.json()["total"] == 2
    assert page["items"][0]["bin"] != r2.json()["items"][0]["bin"]
    kazakh = await registry.call("GET", "/legal-entities", params={"q": "ҚЫЗЫЛ"})
    assert [i["name_kk"] for i in kazakh.json()["items"]] == ["«Қызыл Ту» АҚ"]
    none = await registry.call("GET", "/legal-entities", params={"q": "100%_"})
    assert none.json()["total"] == 0


async def test_concurrent_registrations_get_unique_bins(registry: Registry) -> None:
    answers = await asyncio.gather(
        *(
            registry.call("POST", "/legal-entities", json=llp(name_ru=f"ТОО «Параллель {i}»"))
            for i in range(8)
        )
    )
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    bins = [a.json()["bin"] for a in answers]
    assert len(set(bins)) == 8
    assert all(parse_bin(b).entity_type == "resident" for b in bins)
