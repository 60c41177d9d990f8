"""Proactive offers on SQLite and PostgreSQL: made once per life event (even when the event is
delivered twice), not made to who already applied, declined, expired, accepted."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from egov_gateway.register.domain.proactive import validate_rules
from egov_gateway.register.proactive_rules import seed_proactive_rules
from egov_gateway.register.seed import seed_services
from meshkit.contracts.common import Share
from meshkit.contracts.gateway import ApplicationSubmitted
from meshkit.contracts.registry import (
    BirthRegistered,
    DeathRegistered,
    Founder,
    LegalEntityRegistered,
)
from meshkit.events import registry as event_registry
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.gateway_offers import SingleWindowHarness, iin
from meshkit_testing.polling import eventually

MOTHER = iin(10, sex="female")
FATHER = iin(20, born=date(1988, 3, 2), sex="male")
CHILD = iin(30, born=date(2026, 11, 20), sex="male")
STRANGER = iin(40, born=date(1975, 1, 9), sex="male")


def birth(mother: str | None = MOTHER, father: str | None = FATHER) -> BirthRegistered:
    return BirthRegistered(
        act_number="B-2026-000123",
        child_iin=CHILD,
        surname="Қасымов",
        given_name="Нұрсұлтан",
        birth_date=date(2026, 11, 20),
        sex="male",
        place="Астана",
        mother_iin=mother,
        father_iin=father,
        registered_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
    )


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


async def offers_of(
    sw: SingleWindowHarness, who: str, status: str = "open"
) -> list[dict[str, Any]]:
    r = await sw.client.get("/api/v1/me/offers", params={"status": status}, headers=sw.citizen(who))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_declared_rules_name_real_services_and_events() -> None:
    rules = seed_proactive_rules()
    validate_rules(
        rules, {s.code for s in seed_services()}, {m.event_type for m in event_registry.types()}
    )
    assert {r.event_type for r in rules} == {
        "kz.egov.registry.birth.registered.v1",
        "kz.egov.registry.death.registered.v1",
        "kz.egov.registry.legal_entity.registered.v1",
    }


async def test_the_rules_are_published(single_window: SingleWindowHarness) -> None:
    r = await single_window.client.get("/api/v1/proactive-rules")  # public: no token
    assert r.status_code == 200
    rules = {x["code"]: x for x in r.json()}
    assert rules["birth-allowance"]["service_code"] == "pm-birth-allowance"
    assert rules["birth-allowance"]["recipients"] == ["$.event.mother_iin", "$.event.father_iin"]
    assert rules["birth-allowance"]["exclusive"] is True
    assert rules["funeral-allowance"]["recipients"] == ["$.applicant"]
    assert len(rules) == 6


async def test_birth_offers_both_parents_once_even_when_redelivered(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    event = await sw.deliver(birth(), subject=CHILD)
    await sw.redeliver(event, birth())  # the same event id again: no new offers

    for parent in (MOTHER, FATHER):
        offers = await offers_of(sw, parent)
        assert sorted(o["service_code"] for o in offers) == [
            "pm-birth-allowance",
            "rg-birth-certificate",
        ]
        allowance = next(o for o in offers if o["service_code"] == "pm-birth-allowance")
        # prefilled with what the state holds: the citizen re-types nothing
        assert allowance["payload"] == {"child_iin": CHILD}  # paid to whoever accepts
        assert allowance["status"] == "offered"
        assert allowance["trigger_event_type"] == "kz.egov.registry.birth.registered.v1"
        expires = datetime.fromisoformat(allowance["expires_at"])
        created = datetime.fromisoformat(allowance["created_at"])
        assert expires - created == timedelta(days=180)

    rows = await sw.sql("SELECT count(*) FROM offers WHERE trigger_event_id = :e", e=event.id)
    assert rows[0][0] == 4
    made = await sw.sql(
        "SELECT count(*) FROM (SELECT event_type FROM outbox UNION ALL"
        " SELECT event_type FROM outbox_sent) AS written"
        " WHERE event_type = 'kz.egov.gateway.offer.made.v1'"
    )
    assert made[0][0] == 4
    # nobody else sees them
    assert await offers_of(sw, STRANGER) == []


async def test_no_allowance_offer_when_a_parent_already_applied(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    app_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    # the birth was registered by the mother's "birth of a child" application (allowance included)
    await sw.add_application(
        id=app_id,
        applicant_iin=MOTHER,
        service_code="cx-birth-of-child",
        submitted_at=now,
        due_at=now + timedelta(days=5),
        status="waiting",
    )
    await sw.deliver(birth(), subject=CHILD, correlation_id=app_id)
    for parent in (MOTHER, FATHER):  # one allowance per child: neither parent is offered it
        codes = [o["service_code"] for o in await offers_of(sw, parent)]
        assert codes == ["rg-birth-certificate"]


async def test_a_single_parent_birth_offers_to_the_one_named(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    await sw.deliver(birth(father=None), subject=CHILD)
    assert len(await offers_of(sw, MOTHER)) == 2
    assert await offers_of(sw, FATHER) == []


async def test_decline_and_then_it_is_closed(single_window: SingleWindowHarness) -> None:
    sw = single_window
    await sw.deliver(birth(), subject=CHILD)
    offer = next(
        o for o in await offers_of(sw, MOTHER) if o["service_code"] == "rg-birth-certificate"
    )
    path = f"/api/v1/me/offers/{offer['id']}/decline"

    # another person cannot see nor decline it
    problem(await sw.client.post(path, headers=sw.citizen(STRANGER)), 404)

    r = await sw.client.post(path, headers=sw.citizen(MOTHER))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "declined"
    assert r.json()["decided_at"] is not None

    again = problem(await sw.client.post(path, headers=sw.citizen(MOTHER)), 409)
    assert again["type"].endswith("/offer-closed")
    accepted = problem(
        await sw.client.post(f"/api/v1/me/offers/{offer['id']}/accept", headers=sw.citizen(MOTHER)),
        409,
    )
    assert "declined" in accepted["detail"]
    codes = [o["service_code"] for o in await offers_of(sw, MOTHER)]
    assert codes == ["pm-birth-allowance"]
    everything = await offers_of(sw, MOTHER, status="all")
    assert sorted(o["status"] for o in everything) == ["declined", "offered"]


async def test_an_expired_offer_cannot_be_accepted(single_window: SingleWindowHarness) -> None:
    sw = single_window
    await sw.deliver(birth(), subject=CHILD)
    offer = next(
        o for o in await offers_of(sw, FATHER) if o["service_code"] == "pm-birth-allowance"
    )
    past = datetime.now(UTC) - timedelta(minutes=1)
    await sw.sql("UPDATE offers SET expires_at = :t WHERE id = :i", t=past, i=offer["id"])

    body = problem(
        await sw.client.post(f"/api/v1/me/offers/{offer['id']}/accept", headers=sw.citizen(FATHER)),
        409,
    )
    assert body["type"].endswith("/offer-expired")
    assert "expired" in body["detail"]
    problem(
        await sw.client.post(
            f"/api/v1/me/offers/{offer['id']}/decline", headers=sw.citizen(FATHER)
        ),
        409,
    )
    assert [o["service_code"] for o in await offers_of(sw, FATHER)] == ["rg-birth-certificate"]
    stored = {o["id"]: o["status"] for o in await offers_of(sw, FATHER, status="all")}
    assert stored[offer["id"]] == "expired"


async def test_death_offers_go_to_who_declared_it(single_window: SingleWindowHarness) -> None:
    sw = single_window
    deceased = iin(50, born=date(1940, 2, 2), sex="male")
    declarant = STRANGER
    app_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    await sw.add_application(
        id=app_id,
        applicant_iin=declarant,
        service_code="rg-death-registration",
        submitted_at=now,
        due_at=now + timedelta(days=1),
        status="completed",
        completed_at=now,
    )
    event = DeathRegistered(
        act_number="D-2026-000777",
        iin=deceased,
        date_of_death=date(2026, 11, 30),
        registered_at=now,
    )
    await sw.deliver(event, subject=deceased, correlation_id=app_id)
    offers = {o["service_code"]: o for o in await offers_of(sw, declarant)}
    assert set(offers) == {"pm-funeral-allowance", "rg-death-certificate"}
    assert offers["pm-funeral-allowance"]["payload"] == {"deceased_iin": deceased}
    # a death registered without an application of the single window names nobody to offer to
    await sw.deliver(event, subject=deceased)
    rows = await sw.sql("SELECT count(*) FROM offers")
    assert rows[0][0] == 2


async def test_new_company_director_is_offered_certificate_and_license(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    director = STRANGER
    event = LegalEntityRegistered(
        bin="261140012349",
        name_kk="«Құрылыс» ЖШС",
        name_ru="ТОО «Курылыс»",
        legal_form="LLP",
        director_iin=director,
        founders=[Founder(id=director, share=Share(num=1, den=1))],
        registered_at=datetime.now(UTC),
    )
    await sw.deliver(event, subject="261140012349")
    offers = {o["service_code"]: o for o in await offers_of(sw, director)}
    assert set(offers) == {"rg-legal-entity-certificate", "lc-license-construction"}
    lic = offers["lc-license-construction"]
    assert lic["payload"] == {"applicant_bin": "261140012349", "license_type": "construction"}
    assert lic["citizen_supplies"] == ["activity_address"]


async def test_offers_are_a_citizen_view(single_window: SingleWindowHarness) -> None:
    sw = single_window
    problem(await sw.client.get("/api/v1/me/offers"), 401)
    problem(
        await sw.client.get("/api/v1/me/offers", headers=sw.identity.bearer("agency", "registry")),
        403,
    )
    problem(
        await sw.client.get(
            "/api/v1/me/offers", params={"status": "bogus"}, headers=sw.citizen(MOTHER)
        ),
        422,
    )
    problem(
        await sw.client.post("/api/v1/me/offers/not-an-id!/accept", headers=sw.citizen(MOTHER)),
        422,
    )


async def test_accept_runs_the_offered_service_with_the_states_data(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    await sw.deliver(birth(), subject=CHILD)
    mine = next(o for o in await offers_of(sw, MOTHER) if o["service_code"] == "pm-birth-allowance")
    theirs = next(
        o for o in await offers_of(sw, FATHER) if o["service_code"] == "pm-birth-allowance"
    )

    r = await sw.client.post(f"/api/v1/me/offers/{mine['id']}/accept", headers=sw.citizen(MOTHER))
    assert r.status_code == 201, r.text
    body = r.json()
    app_id = body["application"]["id"]
    assert body["offer"]["status"] == "accepted"
    assert body["offer"]["application_id"] == app_id
    assert body["application"]["service_code"] == "pm-birth-allowance"

    # the application is the mother's, came from the offer, and carries the state's data
    rows = await sw.sql(
        "SELECT applicant_iin, origin, service_code FROM applications WHERE id = :i", i=app_id
    )
    assert [tuple(r) for r in rows] == [(MOTHER, "offer", "pm-birth-allowance")]
    got = await sw.client.get(f"/api/v1/applications/{app_id}", headers=sw.citizen(MOTHER))
    assert got.status_code == 200, got.text

    async def payout_requested() -> bool:
        return any(c["path"] == "/allowances" for c in sw.agencies.calls)

    await eventually(payout_requested, within=20, what="the allowance payout step")
    payout = next(c for c in sw.agencies.calls if c["path"] == "/allowances")
    # the mother claims the allowance for this child herself; payments owns the amount, the
    # budget line and the eligibility (the register sends neither amount nor recipient)
    assert payout["body"] == {"kind": "childbirth", "subject_iin": CHILD}
    assert payout["on_behalf_of"] == MOTHER and payout["service_code"] == "pm-birth-allowance"

    # one allowance per child: the father's alternative offer is withdrawn
    statuses = {o["id"]: o["status"] for o in await offers_of(sw, FATHER, status="all")}
    assert statuses[theirs["id"]] == "withdrawn"
    problem(
        await sw.client.post(
            f"/api/v1/me/offers/{theirs['id']}/accept", headers=sw.citizen(FATHER)
        ),
        409,
    )
    # accepting twice does not apply twice
    problem(
        await sw.client.post(f"/api/v1/me/offers/{mine['id']}/accept", headers=sw.citizen(MOTHER)),
        409,
    )
    count = await sw.sql("SELECT count(*) FROM applications WHERE applicant_iin = :m", m=MOTHER)
    assert count[0][0] == 1


async def test_accept_takes_only_what_the_state_does_not_hold(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    director, bin_ = STRANGER, "261140012349"
    await sw.deliver(
        LegalEntityRegistered(
            bin=bin_,
            name_kk="«Құрылыс» ЖШС",
            name_ru="ТОО «Курылыс»",
            legal_form="LLP",
            director_iin=director,
            founders=[Founder(id=director, share=Share(num=1, den=1))],
            registered_at=datetime.now(UTC),
        ),
        subject=bin_,
    )
    offer = next(
        o for o in await offers_of(sw, director) if o["service_code"] == "lc-license-construction"
    )
    path = f"/api/v1/me/offers/{offer['id']}/accept"
    # the address of the activity is the citizen's to give: without it the application is refused
    missing = problem(await sw.client.post(path, headers=sw.citizen(director)), 422)
    assert "activity_address" in str(missing.get("errors") or missing["detail"])
    assert [o["status"] for o in await offers_of(sw, director) if o["id"] == offer["id"]] == [
        "offered"
    ]
    problem(await sw.client.post(path, json={"unexpected": 1}, headers=sw.citizen(director)), 422)
    r = await sw.client.post(
        path,
        json={"payload": {"activity_address": "Астана, Мәңгілік Ел 55", "applicant_bin": "x"}},
        headers=sw.citizen(director),
    )
    assert r.status_code == 201, r.text
    app_id = r.json()["application"]["id"]
    rows = await sw.sql("SELECT payload FROM applications WHERE id = :i", i=app_id)
    stored = rows[0][0] if isinstance(rows[0][0], dict) else json.loads(rows[0][0])
    # the state's data wins over anything the citizen sends for it
    assert stored == {
        "applicant_bin": bin_,
        "license_type": "construction",
        "activity_address": "Астана, Мәңгілік Ел 55",
    }


async def test_applying_by_oneself_withdraws_the_offer_and_its_alternatives(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    await sw.deliver(birth(), subject=CHILD)

    async def apply(child: str) -> str:
        r = await sw.client.post(
            "/api/v1/applications",
            json={
                "service_code": "pm-birth-allowance",
                "payload": {"child_iin": child},
            },
            headers=sw.citizen(FATHER),
        )
        assert r.status_code in (200, 201, 202), r.text
        app_id: str = r.json()["id"]
        await sw.deliver(
            ApplicationSubmitted(
                application_id=app_id,
                service_code="pm-birth-allowance",
                applicant_iin=FATHER,
                due_at=datetime.now(UTC) + timedelta(days=8),
            ),
            subject=app_id,
        )
        return app_id

    # the allowance for another child leaves this child's offers alone
    await apply(iin(60, born=date(2025, 1, 5), sex="female"))
    assert len(await offers_of(sw, FATHER)) == 2
    # the father applies from the catalogue for this child: nobody is offered it any more
    await apply(CHILD)
    for parent in (MOTHER, FATHER):
        codes = [o["service_code"] for o in await offers_of(sw, parent)]
        assert codes == ["rg-birth-certificate"]
    statuses = sorted(o["status"] for o in await offers_of(sw, MOTHER, status="all"))
    assert statuses == ["offered", "withdrawn"]
