"""SDB Individuals through the routed API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from meshkit.ids import make_iin, parse_iin
from meshkit.problems import PROBLEM_JSON

ALIKHAN, GULNUR, NURSULTAN, ERGALI = "900115300122", "920308400210", "190601500314", "851123300454"

NEWBORN: dict[str, Any] = {
    "surname": "Сәрсенбаева",
    "given_name": "Айғаным",
    "patronymic": "Әлиханқызы",
    "birth_date": "2025-03-21",
    "sex": "female",
    "birth_place": "Алматы қ.",
    "mother_iin": GULNUR,
    "father_iin": ALIKHAN,
}


async def test_registry_creates_a_person_with_a_valid_new_iin(svc: Any) -> None:
    r = await svc.routed("POST", "/persons", json=NEWBORN)
    assert r.status_code == 201, r.text
    body = r.json()
    info = parse_iin(body["iin"])
    assert (info.birth_date, info.sex) == (date(2025, 3, 21), "female")
    assert body["iin"][6] == "6"  # 21st century, female
    assert body["surname"] == "Сәрсенбаева" and body["given_name"] == "Айғаным"
    assert body["mother_iin"] == GULNUR and body["status"] == "active"
    second = await svc.routed("POST", "/persons", json={**NEWBORN, "given_name": "Әйгерім"})
    assert second.status_code == 201 and second.json()["iin"] != body["iin"]
    assert parse_iin(second.json()["iin"]).birth_date == date(2025, 3, 21)
    # Kazakh letters round-trip through the database
    got = await svc.routed("GET", f"/persons/{body['iin']}")
    assert got.json()["given_name"] == "Айғаным" and got.json()["patronymic"] == "Әлиханқызы"
    # parents now list the child
    father = (await svc.routed("GET", f"/persons/{ALIKHAN}")).json()
    assert body["iin"] in father["children_iins"] and NURSULTAN in father["children_iins"]
    events = await svc.events("identity.person.registered.v1")
    assert [e["subject"] for e in events] == [body["iin"], second.json()["iin"]]
    assert events[0]["data"]["given_name"] == "Айғаным"
    assert events[0]["source"] == "/svc-identity"


async def test_idempotency_key_replays_or_conflicts(svc: Any) -> None:
    headers = {"Idempotency-Key": "birth-act-2025-000117"}
    first = await svc.routed("POST", "/persons", json=NEWBORN, headers=headers)
    again = await svc.routed("POST", "/persons", json=NEWBORN, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["iin"] == first.json()["iin"]
    assert again.headers["idempotent-replayed"] == "true"
    other = await svc.routed(
        "POST", "/persons", json={**NEWBORN, "given_name": "Басқа"}, headers=headers
    )
    assert other.status_code == 409 and other.headers["content-type"] == PROBLEM_JSON
    # the same key of another client is another request
    notary = await svc.routed("POST", "/persons", json=NEWBORN, headers=headers, client="notary")
    assert notary.status_code == 403
    assert len(await svc.events("identity.person.registered.v1")) == 1


async def test_only_registrars_create_and_citizens_never(svc: Any) -> None:
    r = await svc.as_citizen("POST", "/persons", ALIKHAN, json=NEWBORN)
    assert r.status_code == 403
    r = await svc.routed("POST", "/persons", json=NEWBORN, client="payments")
    assert r.status_code == 403 and "registr" in r.json()["detail"]
    r = await svc.client.post("/persons", json=NEWBORN)  # bypassing the gateway
    assert r.status_code == 401


async def test_bad_input_is_a_422_that_says_why(svc: Any) -> None:
    cases = {
        "900115300123": "check digit is wrong",  # bad check digit
        "901315300122": "not a real date",  # month 13
        "900115700122": "century/sex digit",  # 7 is no century digit
        "90011530012": "exactly 12 digits",
    }
    for iin, reason in cases.items():
        r = await svc.routed("GET", f"/persons/{iin}")
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON, iin
        assert reason in r.json()["errors"]["path.iin"], r.json()
    r = await svc.routed("POST", "/persons", json={**NEWBORN, "mother_iin": "920308400211"})
    assert r.status_code == 422 and "check digit" in r.json()["errors"]["mother_iin"]
    r = await svc.routed("POST", "/persons", json={**NEWBORN, "birth_date": "2999-01-01"})
    assert r.status_code == 422 and "future" in r.json()["detail"]
    r = await svc.routed("POST", "/persons", json={**NEWBORN, "mother_iin": ALIKHAN})
    assert r.status_code == 422 and "woman" in r.json()["detail"]
    unknown = make_iin(date(1980, 1, 1), "male", 5)
    r = await svc.routed("POST", "/persons", json={**NEWBORN, "father_iin": unknown})
    assert r.status_code == 422 and r.json()["errors"]["father_iin"] == "no such person"
    r = await svc.routed("POST", "/persons", json={**NEWBORN, "surname": ""})
    assert r.status_code == 422 and "surname" in r.json()["errors"]
    r = await svc.routed("GET", f"/persons/{unknown}")  # valid but unknown
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM_JSON


async def test_citizen_reads_own_record_and_minor_children_only(svc: Any) -> None:
    r = await svc.as_citizen("GET", f"/persons/{ALIKHAN}", ALIKHAN)
    assert r.status_code == 200 and r.json()["iin"] == ALIKHAN
    r = await svc.as_citizen("GET", f"/persons/{NURSULTAN}", GULNUR)  # her minor son
    assert r.status_code == 200 and r.json()["mother_iin"] == GULNUR
    r = await svc.as_citizen("GET", f"/persons/{GULNUR}", ALIKHAN)  # his wife: not his data
    assert r.status_code == 403
    r = await svc.as_citizen("GET", f"/persons/{NURSULTAN}", ERGALI)
    assert r.status_code == 403


async def test_family_links(svc: Any) -> None:
    r = await svc.as_citizen("GET", f"/persons/{NURSULTAN}/family", NURSULTAN)
    assert r.status_code == 200
    fam = r.json()
    assert fam["mother"]["iin"] == GULNUR and fam["father"]["given_name"] == "Әлихан"
    r = await svc.as_citizen("GET", f"/persons/{ALIKHAN}/family", ALIKHAN)
    assert [c["iin"] for c in r.json()["children"]] == [NURSULTAN]
    r = await svc.as_citizen("GET", f"/persons/{ALIKHAN}/family", ERGALI)
    assert r.status_code == 403
    r = await svc.routed("GET", f"/persons/{GULNUR}/family", client="payments")
    assert r.status_code == 200 and r.json()["children"][0]["iin"] == NURSULTAN


async def test_search_by_iin_and_by_name_and_birth_date_paginated(svc: Any) -> None:
    for name in ("Ерасыл", "Ержан", "Әсел", "Ерназар"):
        sex = "female" if name == "Әсел" else "male"
        body = {**NEWBORN, "surname": "Қасымов", "given_name": name, "sex": sex}
        body.pop("mother_iin")
        if sex == "female":
            body["surname"] = "Қасымова"
        assert (await svc.routed("POST", "/persons", json=body)).status_code == 201
    q = {"surname": "қасымов", "birth_date": "2025-03-21", "size": 2}  # lower case matches
    r = await svc.routed("GET", "/persons", params=q, client="operator")
    assert r.status_code == 200, r.text
    page1 = r.json()
    assert page1["total"] == 3 and len(page1["items"]) == 2
    r = await svc.routed("GET", "/persons", params={**q, "page": 2}, client="operator")
    page2 = r.json()
    assert len(page2["items"]) == 1
    names = [p["given_name"] for p in page1["items"] + page2["items"]]
    assert sorted(names) == ["Ерасыл", "Ержан", "Ерназар"] and names == sorted(names)
    r = await svc.routed("GET", "/persons", params={"surname": "ҚАСЫМОВ", "given_name": "ерж"})
    assert [p["given_name"] for p in r.json()["items"]] == ["Ержан"]
    r = await svc.routed("GET", "/persons", params={"iin": ALIKHAN})
    assert [p["iin"] for p in r.json()["items"]] == [ALIKHAN]
    r = await svc.routed("GET", "/persons", params={"birth_date": "2025-03-21"})
    assert r.status_code == 422
    r = await svc.as_citizen("GET", "/persons", ALIKHAN, params={"iin": ALIKHAN})
    assert r.status_code == 403


async def test_update_name_address_phone(svc: Any) -> None:
    r = await svc.routed(
        "PATCH",
        f"/persons/{ERGALI}",
        json={"address": "Астана қ., Тұран даңғылы, 1"},
        client="payments",
    )
    assert r.status_code == 200 and r.json()["address"] == "Астана қ., Тұран даңғылы, 1"
    r = await svc.routed(
        "PATCH", f"/persons/{ERGALI}", json={"surname": "Қайрат"}, client="payments"
    )
    assert r.status_code == 403  # names change only by civil registration
    r = await svc.routed(
        "PATCH", f"/persons/{ERGALI}", json={"surname": "Қайрат", "phone": "+77770001122"}
    )
    assert r.status_code == 200 and r.json()["surname"] == "Қайрат"
    r = await svc.as_citizen("PATCH", f"/persons/{ERGALI}", ERGALI, json={"phone": "+77000000000"})
    assert r.status_code == 403  # the phone carries login codes: not self-service
    assert "public service centre" in r.json()["detail"]
    # a citizen keeps their own address (the single window's change of contact details) …
    r = await svc.as_citizen(
        "PATCH", f"/persons/{ERGALI}", ERGALI, json={"address": "Алматы қ., Абай д., 10"}
    )
    assert r.status_code == 200 and r.json()["address"] == "Алматы қ., Абай д., 10"
    # … and nobody else's, nor a name
    r = await svc.as_citizen(
        "PATCH", f"/persons/{ERGALI}", "850302400133", json={"address": "Алматы қ., 1"}
    )
    assert r.status_code == 403 and "only your own" in r.json()["detail"]
    r = await svc.as_citizen("PATCH", f"/persons/{ERGALI}", ERGALI, json={"surname": "Қайрат"})
    assert r.status_code == 403
    r = await svc.routed("PATCH", f"/persons/{ERGALI}", json={"phone": "12"})
    assert r.status_code == 422 and "phone" in r.json()["errors"]
    updates = await svc.events("identity.person.updated.v1")
    assert [e["data"]["changed"] for e in updates] == [
        ["address"],
        ["surname", "phone"],
        ["address"],
    ]


async def test_mark_deceased_by_registrar_closes_the_record(svc: Any) -> None:
    r = await svc.routed(
        "POST", f"/persons/{ERGALI}/death", json={"date_of_death": "2026-01-05"}, client="payments"
    )
    assert r.status_code == 403
    for _ in range(2):  # a repeat is harmless
        r = await svc.routed(
            "POST",
            f"/persons/{ERGALI}/death",
            json={"date_of_death": "2026-01-05", "act_number": "D-2026-1"},
        )
        assert r.status_code == 200 and r.json()["status"] == "deceased"
    assert r.json()["date_of_death"] == "2026-01-05"
    assert len(await svc.events("identity.person.deceased.v1")) == 1
    r = await svc.routed("PATCH", f"/persons/{ERGALI}", json={"address": "x"})
    assert r.status_code == 409


async def test_citizen_sees_who_holds_their_data(svc: Any) -> None:
    await svc.routed("GET", f"/persons/{ALIKHAN}", client="payments", purpose="бала жәрдемақысы")
    await svc.routed("GET", f"/persons/{ALIKHAN}", client="payments", purpose="бала жәрдемақысы")
    r = await svc.as_citizen("GET", f"/persons/{ALIKHAN}/data-holders", ALIKHAN)
    assert r.status_code == 200, r.text
    holders = r.json()["holders"]
    received = [h for h in holders if h["basis"] == "received"]
    assert received and received[0]["agency"] == "payments"
    assert received[0]["times"] == 2 and received[0]["last_purpose"] == "бала жәрдемақысы"
    assert set(received[0]["categories"]) == {"personal", "contacts", "family"}
    assert any(h["basis"] == "law" and h["agency"] == "registry" for h in holders)
    r = await svc.as_citizen("GET", f"/persons/{ALIKHAN}/data-holders", ERGALI)
    assert r.status_code == 403
