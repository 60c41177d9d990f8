"""Issue 15 — no confused deputy: a citizen's step (also one the single window runs for them)
reaches the registry as the citizen, and the registry decides with the owner of the data
(identity: family links, consents). Each rule: the legitimate citizen succeeds, an unrelated
citizen is refused with a clear 403 problem, and agencies pass as before."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from egov_registry.domain.civil_status import NOT_A_DECLARANT
from egov_registry.service_layer.civil_status import (
    MOTHER_CONSENT_MISSING,
    MOTHER_NOT_CONSENTED,
    NOT_A_PARENT,
)
from egov_registry.service_layer.legal_entities import CONSENT_MISSING
from meshkit.ids import next_iin
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.registry import FATHER, FOUNDER_B, MOTHER, OTHER, Registry

GRANDMA = next_iin(date(1950, 2, 3), "female", 0)[0]  # MOTHER's mother
CHILD = next_iin(date(2010, 6, 7), "male", 0)[0]  # FOUNDER_B's son
FLAT = "21:318:010:123:4"


def family(registry: Registry) -> None:
    registry.identity.add(GRANDMA, "female", date(1950, 2, 3), surname="Әбенова")
    registry.identity.add(CHILD, "male", date(2010, 6, 7), surname="Омаров")
    registry.identity.link(MOTHER, mother=GRANDMA)
    registry.identity.link(CHILD, father=FOUNDER_B)


def death(iin: str, day: str = "2026-02-01") -> dict[str, Any]:
    return {"iin": iin, "date_of_death": day, "place": "Астана қ."}


def notice(iin: str, day: str = "2026-02-01") -> dict[str, Any]:
    return {
        "iin": iin,
        "date_of_death": day,
        "place": "Астана қ., №1 қалалық аурухана",
        "issued_by": "Астана қ. №1 қалалық ауруханасы",
        "cause": "жүрек жеткіліксіздігі",
    }


def refused(r: httpx.Response, detail: str | None = None) -> dict[str, Any]:
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    if detail is not None:
        assert body["detail"] == detail, body
    return body


# -- deaths ----------------------------------------------------------------------------------
async def test_a_child_or_parent_registers_the_death_and_relatives_read_it(
    registry: Registry,
) -> None:
    family(registry)
    r = await registry.citizen("POST", "/deaths", MOTHER, json=death(GRANDMA))
    assert r.status_code == 201, r.text
    act = r.json()
    assert act["declarant_iin"] == MOTHER and act["death_notice_id"] is None
    # identity decided, asked by the registry on behalf of the declarant, with a purpose
    asked = [c for c in registry.identity.calls if c["path"] == f"/persons/{GRANDMA}/family"]
    assert asked and asked[0]["user"] == MOTHER and asked[0]["purpose"]
    events = await registry.outbox_events("registry.death.registered")
    assert [e.data["iin"] for e in events] == [GRANDMA]
    # a parent registers the death of their child
    r = await registry.citizen("POST", "/deaths", FOUNDER_B, json=death(CHILD, "2026-01-15"))
    assert r.status_code == 201 and r.json()["declarant_iin"] == FOUNDER_B, r.text
    # the declarant, a relative and agencies read the act; a stranger does not
    path = f"/deaths/{act['act_number']}"
    assert (await registry.citizen("GET", path, MOTHER)).json() == act
    assert (await registry.call("GET", path)).json() == act
    refused(
        await registry.citizen("GET", path, OTHER),
        "a citizen may only read a death act they declared or of their parent or child",
    )
    child_act = r.json()["act_number"]
    assert (await registry.citizen("GET", f"/deaths/{child_act}", FOUNDER_B)).status_code == 200
    refused(await registry.citizen("GET", f"/deaths/{child_act}", MOTHER))


async def test_a_relative_reads_a_death_act_an_agency_registered(registry: Registry) -> None:
    family(registry)
    act = (await registry.call("POST", "/deaths", json=death(GRANDMA))).json()
    assert act["declarant_iin"] is None
    path = f"/deaths/{act['act_number']}"
    assert (await registry.citizen("GET", path, MOTHER)).status_code == 200
    refused(await registry.citizen("GET", path, FATHER))


async def test_a_stranger_cannot_register_a_living_persons_death(registry: Registry) -> None:
    family(registry)
    refused(await registry.citizen("POST", "/deaths", OTHER, json=death(FATHER)), NOT_A_DECLARANT)
    # a grandchild, a spouse-to-be, a sibling: not a parent or child either
    refused(await registry.citizen("POST", "/deaths", FATHER, json=death(GRANDMA)), NOT_A_DECLARANT)
    refused(await registry.citizen("POST", "/deaths", MOTHER, json=death(MOTHER)), NOT_A_DECLARANT)
    assert await registry.outbox_events("registry.death.registered") == []
    r = await registry.call("GET", "/deaths", params={"iin": FATHER})
    assert r.status_code == 200 and r.json() == []
    # registry staff and granted agencies register as before
    r = await registry.call("POST", "/deaths", json=death(FATHER), client="registry-operator")
    assert r.status_code == 201 and r.json()["declarant_iin"] is None


async def test_a_medical_death_notice_lets_a_citizen_declare_and_is_consumed(
    registry: Registry,
) -> None:
    # only agencies file notices
    refused(await registry.citizen("POST", "/death-notices", OTHER, json=notice(FATHER)))
    key = {"Idempotency-Key": "mdn-1"}
    r = await registry.call("POST", "/death-notices", json=notice(FATHER), client="health")
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["act_number"] is None and filed["filed_by"] == "health"
    assert filed["issued_by"] == "Астана қ. №1 қалалық ауруханасы"
    again = await registry.call("POST", "/death-notices", json=notice(FATHER), headers=key)
    assert again.status_code == 409 and filed["id"] in again.json()["detail"]
    future = await registry.call("POST", "/death-notices", json=notice(MOTHER, "2999-01-01"))
    assert future.status_code == 422 and "date_of_death" in future.json()["errors"]
    bad = await registry.call("POST", "/death-notices", json=notice("900115365297"))
    assert bad.status_code == 422 and "check digit" in bad.json()["errors"]["iin"]
    assert (
        await registry.citizen("GET", f"/death-notices/{filed['id']}", OTHER)
    ).status_code == 403

    # the declaration must agree with the notice
    wrong = await registry.citizen("POST", "/deaths", OTHER, json=death(FATHER, "2026-02-02"))
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == {"date_of_death": "the medical death notice says 2026-02-01"}
    # any citizen (a neighbour, a household member) declares it with the notice on file
    r = await registry.citizen("POST", "/deaths", OTHER, json=death(FATHER))
    assert r.status_code == 201, r.text
    act = r.json()
    assert act["death_notice_id"] == filed["id"] and act["declarant_iin"] == OTHER
    got = await registry.call("GET", f"/death-notices/{filed['id']}")
    assert got.status_code == 200 and got.json()["act_number"] == act["act_number"]
    assert (await registry.citizen("GET", f"/deaths/{act['act_number']}", OTHER)).json() == act
    # no notice for a registered death; the next one for somebody else stands alone
    late = await registry.call("POST", "/death-notices", json=notice(FATHER))
    assert late.status_code == 409 and act["act_number"] in late.json()["detail"]
    assert (await registry.call("GET", "/death-notices/nope")).status_code == 404


async def test_an_agency_registration_consumes_the_notice_too(registry: Registry) -> None:
    key = {"Idempotency-Key": "mdn-2"}
    first = await registry.call("POST", "/death-notices", json=notice(FOUNDER_B), headers=key)
    replay = await registry.call("POST", "/death-notices", json=notice(FOUNDER_B), headers=key)
    assert first.status_code == 201 and replay.status_code == 201
    assert replay.json() == first.json() and replay.headers.get("Idempotent-Replayed") == "true"
    r = await registry.call("POST", "/deaths", json=death(FOUNDER_B, "2026-01-20"))
    assert r.status_code == 201 and r.json()["death_notice_id"] == first.json()["id"]
    got = await registry.call("GET", f"/death-notices/{first.json()['id']}")
    assert got.json()["act_number"] == r.json()["act_number"]


async def test_deaths_of_a_person_for_agencies(registry: Registry) -> None:
    r = await registry.call("GET", "/deaths", params={"iin": FATHER}, client="payments")
    assert r.status_code == 200 and r.json() == []
    act = (await registry.call("POST", "/deaths", json=death(FATHER))).json()
    r = await registry.call("GET", "/deaths", params={"iin": FATHER}, client="payments")
    assert r.status_code == 200
    assert r.json() == [
        {
            "act_number": act["act_number"],
            "iin": FATHER,
            "date_of_death": "2026-02-01",
            "registered_at": act["registered_at"],
            "declarant_iin": None,  # registered by an agency
        }
    ]
    # the act by number is still its own route
    assert (await registry.call("GET", f"/deaths/{act['act_number']}")).json() == act
    bad = await registry.call("GET", "/deaths", params={"iin": "900115365297"})
    assert bad.status_code == 422 and "check digit" in bad.json()["errors"]["query.iin"]
    missing = await registry.call("GET", "/deaths")
    assert missing.status_code == 422 and "query.iin" in missing.json()["errors"]
    refused(
        await registry.citizen("GET", "/deaths", FATHER, params={"iin": FATHER}),
        "only an agency may list the death acts of a person",
    )


# -- births ----------------------------------------------------------------------------------
def newborn(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "surname": "Ахметов",
        "given_name": "Әли",
        "birth_date": "2026-01-05",
        "sex": "male",
        "place": "Астана қ., №1 перинаталдық орталық",
        "mother_iin": MOTHER,
        "father_iin": FATHER,
    }
    body.update(over)
    return body


def consent_checks(registry: Registry) -> list[dict[str, Any]]:
    return [c for c in registry.identity.calls if c["path"] == "/consents/check"]


async def test_a_citizen_registers_only_their_own_childs_birth(registry: Registry) -> None:
    birth = newborn(mother_iin=OTHER, father_iin=None)
    # a stranger names a woman as the mother of a child that is not theirs
    refused(await registry.citizen("POST", "/births", FOUNDER_B, json=birth), NOT_A_PARENT)
    refused(
        await registry.citizen("POST", "/births", FOUNDER_B, json={**birth, "mother_iin": MOTHER}),
        "you can register the birth only of your own child",
    )
    # a stranger naming strangers as both parents, even with the mother's consent on file
    registry.identity.consent(MOTHER, "family")
    refused(await registry.citizen("POST", "/births", FOUNDER_B, json=newborn()), NOT_A_PARENT)
    assert registry.identity.calls == []  # nobody's record was even read
    mine = await registry.citizen("POST", "/births", OTHER, json=birth)
    assert mine.status_code == 201, mine.text
    by_agency = await registry.call("POST", "/births", json={**birth, "given_name": "Айша"})
    assert by_agency.status_code == 201, by_agency.text


async def test_the_mother_declares_the_birth_naming_the_father(registry: Registry) -> None:
    r = await registry.citizen("POST", "/births", MOTHER, json=newborn())
    assert r.status_code == 201, r.text
    assert r.json()["mother_iin"] == MOTHER and r.json()["father_iin"] == FATHER
    assert consent_checks(registry) == []  # her own record: nobody else's consent is needed
    [event] = await registry.outbox_events("registry.birth.registered")
    assert event.data["mother_iin"] == MOTHER


async def test_the_father_declares_the_birth_with_the_mothers_consent(registry: Registry) -> None:
    registry.identity.consent(MOTHER, "family")
    r = await registry.citizen("POST", "/births", FATHER, json=newborn())
    assert r.status_code == 201, r.text
    act = r.json()
    assert act["mother_iin"] == MOTHER and act["father_iin"] == FATHER
    # identity, the owner of the consent, decided — asked on behalf of the father
    [check] = consent_checks(registry)
    assert check["query"] == {"iin": MOTHER, "agency": "registry", "category": "family"}
    assert check["user"] == FATHER and check["purpose"]
    assert len(registry.identity.creations()) == 1
    # the father reads the act he registered
    path = f"/births/{act['act_number']}"
    assert (await registry.citizen("GET", path, FATHER)).status_code == 200


async def test_the_father_cannot_declare_without_the_mothers_consent(registry: Registry) -> None:
    body = refused(await registry.citizen("POST", "/births", FATHER, json=newborn()))
    assert body["detail"] == MOTHER_NOT_CONSENTED
    assert body["detail"] == (
        "the mother has not consented to this registration: she can register the birth "
        "herself, or give the registry her consent (category family)"
    )
    assert body["errors"] == {"mother_iin": MOTHER_CONSENT_MISSING}
    # a consent of another category (or to another agency) does not count
    registry.identity.consent(MOTHER, "business")
    registry.identity.consent(MOTHER, "family", agency="notary")
    again = refused(await registry.citizen("POST", "/births", FATHER, json=newborn()))
    assert again["errors"] == {"mother_iin": MOTHER_CONSENT_MISSING}
    # nothing registered: identity was neither asked for her record nor to create a child
    assert {c["path"] for c in registry.identity.calls} == {"/consents/check"}
    assert registry.identity.creations() == []
    assert await registry.outbox_events("registry.birth.registered") == []
    # a father naming himself as the mother is a mother of the wrong sex (identity decides)
    r = await registry.citizen("POST", "/births", FATHER, json=newborn(mother_iin=FATHER))
    assert r.status_code == 422 and "mother_iin" in r.json()["errors"], r.text
    assert registry.identity.creations() == []
    # an agency registers it as before, without asking for consents
    calls = len(consent_checks(registry))
    r = await registry.call("POST", "/births", json=newborn())
    assert r.status_code == 201, r.text
    assert len(consent_checks(registry)) == calls


# -- legal entities --------------------------------------------------------------------------
def llp(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name_kk": "«Көкжиек» ЖШС",
        "name_ru": "ТОО «Кокжиек»",
        "legal_form": "LLP",
        "founders": [
            {"id": FATHER, "share": {"num": 1, "den": 3}},
            {"id": FOUNDER_B, "share": {"num": 2, "den": 3}},
        ],
        "director_iin": MOTHER,
        "address": "Астана қ., Сауран көшесі, 5",
        "activity_codes": ["62.01"],
    }
    body.update(over)
    return body


async def test_a_citizen_names_other_people_only_with_their_consent(registry: Registry) -> None:
    r = await registry.citizen("POST", "/legal-entities", FATHER, json=llp())
    body = refused(r)
    assert body["errors"] == {"director_iin": CONSENT_MISSING, "founders.1.id": CONSENT_MISSING}
    assert "consent" in body["detail"]
    checks = [c for c in registry.identity.calls if c["path"] == "/consents/check"]
    assert {c["query"]["iin"] for c in checks} == {MOTHER, FOUNDER_B}
    assert all(
        c["query"]["agency"] == "registry"
        and c["query"]["category"] == "business"
        and c["user"] == FATHER
        and c["purpose"]
        for c in checks
    )
    # a consent for another category does not count
    registry.identity.consent(MOTHER, "personal")
    registry.identity.consent(FOUNDER_B)
    r = await registry.citizen("POST", "/legal-entities", FATHER, json=llp())
    assert refused(r)["errors"] == {"director_iin": CONSENT_MISSING}
    assert await registry.outbox_events("registry.legal_entity.registered") == []
    registry.identity.consent(MOTHER)
    r = await registry.citizen("POST", "/legal-entities", FATHER, json=llp())
    assert r.status_code == 201, r.text
    # the director applies as well, with the founders' consent
    registry.identity.consent(FATHER)
    r = await registry.citizen("POST", "/legal-entities", MOTHER, json=llp(name_ru="ТОО «Б»"))
    assert r.status_code == 201, r.text


async def test_a_stranger_cannot_register_an_entity_of_others(registry: Registry) -> None:
    for iin in (MOTHER, FATHER, FOUNDER_B):
        registry.identity.consent(iin)
    refused(
        await registry.citizen("POST", "/legal-entities", OTHER, json=llp()),
        "you can register only a legal entity you direct or found (as an individual)",
    )
    # the stranger as a sole founder of an LLP directed by somebody who never agreed
    sole = llp(founders=[{"id": OTHER, "share": {"num": 1, "den": 1}}], director_iin=FATHER)
    registry.identity.consents.discard((FATHER, "registry", "business"))
    assert refused(await registry.citizen("POST", "/legal-entities", OTHER, json=sole))[
        "errors"
    ] == {"director_iin": CONSENT_MISSING}
    # on their own, nobody else's consent is needed
    own = llp(founders=[{"id": OTHER, "share": {"num": 1, "den": 1}}], director_iin=OTHER)
    r = await registry.citizen("POST", "/legal-entities", OTHER, json=own)
    assert r.status_code == 201, r.text
    # agencies register as before (they answer for the basis themselves)
    assert (await registry.call("POST", "/legal-entities", json=llp())).status_code == 201


async def test_an_entity_founder_named_by_a_citizen_must_be_directed_by_them(
    registry: Registry,
) -> None:
    parent = (await registry.call("POST", "/legal-entities", json=llp())).json()["bin"]
    body = llp(
        founders=[
            {"id": FOUNDER_B, "share": {"num": 1, "den": 2}},
            {"id": parent, "share": {"num": 1, "den": 2}},
        ],
        director_iin=FOUNDER_B,
        name_ru="ТОО «Дочка»",
    )
    r = await registry.citizen("POST", "/legal-entities", FOUNDER_B, json=body)
    assert refused(r)["errors"] == {"founders.1.id": "you do not direct this legal entity"}
    # the parent's director founds it for the parent (and directs it), FOUNDER_B consenting
    registry.identity.consent(FOUNDER_B)
    r = await registry.citizen(
        "POST", "/legal-entities", MOTHER, json={**body, "director_iin": MOTHER}
    )
    assert r.status_code == 201, r.text


async def test_the_director_liquidates_their_own_entity(registry: Registry) -> None:
    bin_ = (await registry.call("POST", "/legal-entities", json=llp())).json()["bin"]
    path = f"/legal-entities/{bin_}/status"
    liquidate = {"status": "liquidated", "reason": "the application was compensated"}
    refused(
        await registry.citizen("POST", path, OTHER, json=liquidate),
        "a citizen may only liquidate an entity they direct",
    )
    refused(await registry.citizen("POST", path, FATHER, json=liquidate))  # a founder only
    refused(
        await registry.citizen("POST", path, MOTHER, json={"status": "suspended", "reason": "x"}),
        "a citizen may only liquidate an entity they direct; other changes are made by an agency",
    )
    r = await registry.citizen("POST", path, MOTHER, json=liquidate)
    assert r.status_code == 200 and r.json()["status"] == "liquidated", r.text
    events = await registry.outbox_events("registry.legal_entity.status_changed")
    assert [(e.data["old_status"], e.data["new_status"]) for e in events] == [
        ("active", "liquidated")
    ]
    assert (await registry.citizen("POST", path, MOTHER, json=liquidate)).status_code == 409
    missing = "/legal-entities/190440872732/status"
    assert (await registry.citizen("POST", missing, MOTHER, json=liquidate)).status_code == 404


# -- certificates ----------------------------------------------------------------------------
async def test_certificates_of_the_citizens_own_entity_and_property(registry: Registry) -> None:
    own = llp(founders=[{"id": MOTHER, "share": {"num": 1, "den": 1}}], director_iin=MOTHER)
    bin_ = (await registry.citizen("POST", "/legal-entities", MOTHER, json=own)).json()["bin"]
    reg = {"kind": "legal_entity_registration", "subject": bin_}
    r = await registry.citizen("POST", "/certificates", MOTHER, json=reg)
    assert r.status_code == 201, r.text
    refused(await registry.citizen("POST", "/certificates", OTHER, json=reg))
    assert (await registry.call("POST", "/certificates", json=reg)).status_code == 201

    flat = {
        "cadastral_number": FLAT,
        "kind": "apartment",
        "address": "Астана қ., Қабанбай батыр даңғылы, 11, 45-пәтер",
        "area_m2": "78.50",
        "owners": [{"id": MOTHER, "share": {"num": 1, "den": 1}}],
    }
    assert (await registry.call("POST", "/properties", json=flat)).status_code == 201
    ownership = {"kind": "property_ownership", "subject": MOTHER, "cadastral_number": FLAT}
    assert (
        await registry.citizen("POST", "/certificates", MOTHER, json=ownership)
    ).status_code == (201)
    refused(await registry.citizen("POST", "/certificates", OTHER, json=ownership))
    # about themselves, but not an owner: refused without showing the owners
    theirs = {**ownership, "subject": OTHER}
    r = await registry.citizen("POST", "/certificates", OTHER, json=theirs)
    assert r.status_code == 422 and r.json()["errors"] == {
        "subject": "not an owner of this property"
    }


# -- real estate -----------------------------------------------------------------------------
async def test_a_property_is_read_by_its_owners_and_encumbrance_holders_only(
    registry: Registry,
) -> None:
    # a bank directed by FATHER, founded by OTHER
    bank_body = llp(founders=[{"id": OTHER, "share": {"num": 1, "den": 1}}], director_iin=FATHER)
    bank = (await registry.call("POST", "/legal-entities", json=bank_body)).json()["bin"]
    flat = {
        "cadastral_number": FLAT,
        "kind": "apartment",
        "address": "Астана қ., Қабанбай батыр даңғылы, 11, 45-пәтер",
        "area_m2": "78.50",
        "owners": [{"id": MOTHER, "share": {"num": 1, "den": 1}}],
    }
    assert (await registry.call("POST", "/properties", json=flat)).status_code == 201
    detail = "a citizen may only read the objects they own or hold an encumbrance on"
    refused(await registry.citizen("GET", f"/properties/{FLAT}", FATHER), detail)
    refused(await registry.citizen("GET", f"/properties/{FLAT}", FOUNDER_B), detail)
    held: dict[str, str] = {}
    for holder in (bank, FOUNDER_B):  # a bank the citizen directs; a private lender
        r = await registry.call(
            "POST",
            f"/properties/{FLAT}/encumbrances",
            json={"kind": "mortgage", "imposed_by": holder},
        )
        assert r.status_code == 201, r.text
        held[holder] = r.json()["id"]
    assert (await registry.citizen("GET", f"/properties/{FLAT}", MOTHER)).status_code == 200
    assert (await registry.citizen("GET", f"/properties/{FLAT}", FATHER)).status_code == 200
    assert (await registry.citizen("GET", f"/properties/{FLAT}", FOUNDER_B)).status_code == 200
    # the bank's founder is not the bank; a stranger is nobody here
    refused(await registry.citizen("GET", f"/properties/{FLAT}", OTHER), detail)
    # a released encumbrance gives no more access
    r = await registry.call("POST", f"/encumbrances/{held[FOUNDER_B]}/release", json={})
    assert r.status_code == 200, r.text
    refused(await registry.citizen("GET", f"/properties/{FLAT}", FOUNDER_B), detail)
    assert (await registry.call("GET", f"/properties/{FLAT}", client="notary")).status_code == 200
