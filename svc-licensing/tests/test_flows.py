"""Every flow of the licensing issue, on SQLite and PostgreSQL, against contract doubles of
registry, identity and payments reached through an in-process gateway."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from licensing_harness import OFFICER, PROBLEM, Mesh, bin_, iin, licensing_mesh

from egov_licensing.service_layer import services
from meshkit.calendar import ALMATY, local_date
from meshkit.contracts.registry import LegalEntityStatusChanged
from meshkit.reference import kbk, mrp_tiyn
from meshkit_testing.ca import TestCA
from meshkit_testing.polling import eventually

FRIDAY = datetime(2026, 3, 20, 10, 0, tzinfo=ALMATY)  # before the Nauryz week of 2026
PHARMACY = {"premises_address": "Алматы қ., Абай даңғылы, 10", "pharmacist_iin": "900115300122"}


async def _business(m: Mesh, n: int, **entity: Any) -> tuple[str, str]:
    director = m.doubles.person(iin(n))
    entity.setdefault("activity_codes", ["47730", "79120", "69200"])
    return director, m.doubles.entity(bin_(n), director, **entity)


async def _licensed(m: Mesh, n: int, license_type: str = "TOUR_OPERATOR") -> tuple[str, str, str]:
    """A business holding a license issued automatically after payment."""
    director, b = await _business(m, n)
    r = await m.apply(license_type, director, b, insurance_contract="ДС-2026/0042")
    assert r.status_code == 201, r.text
    assert await m.pay(r.json())
    app = (await m.as_citizen("GET", f"/applications/{r.json()['id']}", director)).json()
    assert app["status"] == "approved", app
    return director, b, app["license_number"]


def _steps(app: dict[str, Any]) -> list[str]:
    return [s["step"] for s in app["timeline"]]


# -- inactive BIN → rejected with reason ------------------------------------------------------
async def test_inactive_bin_is_rejected_with_reason(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1, status="suspended")
        r = await m.apply("PHARMACY", director, b, **PHARMACY)
        assert r.status_code == 201, r.text
        app = r.json()
        assert app["status"] == "rejected"
        assert app["decision"]["approved"] is False
        assert f"legal entity {b} is suspended, not active" in app["decision"]["reason"]
        assert app["decision"]["decided_by"] == "licensing:automatic"
        assert app["state_duty"]["invoice_id"] is None and m.doubles.invoices == {}
        assert _steps(app)[0] == "submitted" and _steps(app)[-1] == "rejected"
        failed = [s for s in app["timeline"] if s["step"] == "check:legal_entity_active"]
        assert (
            failed and failed[0]["actor"] == "registry" and failed[0]["reason"].startswith("failed")
        )
        assert all(s["at"] and s["actor"] for s in app["timeline"])

        # the registry was asked through the gateway, for the applicant, with a purpose
        asked = [c for c in m.doubles.calls if c["agency"] == "registry"]
        assert asked[0]["assertion"] and asked[0]["user"] == director
        assert app["id"] in asked[0]["purpose"]

        decided = await m.events("licensing.application.decided")
        assert [e["data"]["approved"] for e in decided] == [False]
        assert len(await m.events("licensing.application.submitted")) == 1

        # the applicant sees the reason; nobody else sees the application
        r = await m.as_citizen("GET", f"/applications/{app['id']}", director)
        assert r.status_code == 200 and r.json()["decision"]["reason"] == app["decision"]["reason"]
        r = await m.as_citizen("GET", f"/applications/{app['id']}", iin(50))
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM


async def test_unknown_bin_non_director_and_deceased_are_rejected(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        r = await m.apply("PHARMACY", director, bin_(7), **PHARMACY)
        assert "is not in the register of legal entities" in r.json()["decision"]["reason"]

        # a citizen who does not direct the company files nothing for it (issue 15) …
        stranger = m.doubles.person(iin(3))
        r = await m.apply("PHARMACY", stranger, b, **PHARMACY)
        assert r.status_code == 403, r.text
        assert (
            r.json()["detail"] == "you can apply for a license only for a legal entity you direct"
        )
        assert "holder_name" not in r.text  # … and learns nothing of it
        r = await m.as_citizen("GET", f"/applications?applicant={stranger}", stranger)
        assert r.status_code == 200 and r.json() == []
        # an agency filing on the stranger's behalf still gets the check's rejection on record
        r = await m.as_agency(
            "POST",
            "/applications",
            "licensing",
            user=stranger,
            json={
                "license_type": "PHARMACY",
                "applicant_iin": stranger,
                "applicant_bin": b,
                "details": PHARMACY,
            },
        )
        assert f"IIN {stranger} is not the director of {b}" in r.json()["decision"]["reason"]

        dead = m.doubles.person(iin(4), status="deceased")
        r = await m.apply("ADVOCACY", dead, None, exam_certificate="КЭ-1")
        assert "deceased" in r.json()["decision"]["reason"]

        # a sole-proprietor-only rule: private security needs an LLP or JSC
        sp_director, sp = await _business(
            m, 5, legal_form="SOLE_PROPRIETOR", activity_codes=["80100"]
        )
        r = await m.apply("PRIVATE_SECURITY", sp_director, sp, office_address="Астана")
        assert (
            "legal form SOLE_PROPRIETOR may not hold this license" in r.json()["decision"]["reason"]
        )
        assert m.doubles.invoices == {}


# -- unpaid → waits ---------------------------------------------------------------------------
async def test_unpaid_application_waits(tmp_path: Path, database_url: str | None) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        r = await m.apply("PHARMACY", director, b, **PHARMACY)
        app = r.json()
        assert app["status"] == "awaiting_payment", app
        assert app["needs_officer"] is True and app["decision"] is None

        invoice = m.doubles.invoices[app["id"]]  # Idempotency-Key = application id
        assert invoice.reference == app["id"] and invoice.beneficiary_agency == "licensing"
        # 10 MRP of the day of filing, on the line payments budgets for licence fees
        fee = 10 * mrp_tiyn(FRIDAY.date())
        assert (
            invoice.payer == b and invoice.amount_tiyn == fee and invoice.kbk == kbk("licence_fee")
        )
        # the company's fee: the director who applied is the one who may see and pay it
        assert invoice.payer_representative_iin == director
        assert app["state_duty"] == {
            "amount_tiyn": fee,
            "currency": "KZT",
            "invoice_id": invoice.id,
            "paid_at": None,
        }
        assert "invoice_issued" in _steps(app)

        # an officer cannot approve before the duty is paid
        r = await m.as_officer(
            "POST",
            f"/applications/{app['id']}/decision",
            json={"decision": "approve", "reason": "all good"},
        )
        assert r.status_code == 409 and "before the state duty is paid" in r.json()["detail"]

        m.clock.advance(timedelta(days=2))
        assert await services.detect_overdue(m.ctx, _uows(m)) == 0
        app = (await m.as_citizen("GET", f"/applications/{app['id']}", director)).json()
        assert app["status"] == "awaiting_payment" and app["license_number"] is None
        assert await m.events("licensing.application.decided") == []
        assert await m.events("licensing.license.issued") == []


def _uows(m: Mesh) -> Any:
    return m.components.uows


# -- paid twice → one decision ----------------------------------------------------------------
async def test_duplicate_payment_events_give_one_decision(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        app = (await m.apply("TOUR_OPERATOR", director, b, insurance_contract="ДС-1")).json()
        assert app["status"] == "awaiting_payment" and app["needs_officer"] is False

        assert await m.pay(app, event_id="evt-paid-1")
        assert not await m.pay(app, event_id="evt-paid-1")  # redelivery: the inbox drops it
        assert await m.pay(app, event_id="evt-paid-2")  # a second paid event: handled, no effect

        app = (await m.as_citizen("GET", f"/applications/{app['id']}", director)).json()
        assert app["status"] == "approved"
        assert app["decision"]["decided_by"] == "licensing:automatic"
        assert _steps(app).count("paid") == 1 and _steps(app).count("approved") == 1
        decided = await m.events("licensing.application.decided")
        issued = await m.events("licensing.license.issued")
        assert len(decided) == 1 and decided[0]["data"]["approved"] is True
        assert decided[0]["data"]["within_sla"] is True
        assert len(issued) == 1 and issued[0]["data"]["number"] == app["license_number"]
        assert issued[0]["subject"] == app["license_number"]
        assert app["license_number"].startswith("KZ26LIC")


async def test_officer_decides_once_after_payment(tmp_path: Path, database_url: str | None) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        app = (await m.apply("PHARMACY", director, b, **PHARMACY)).json()
        assert await m.pay(app, event_id="evt-a") and await m.pay(app, event_id="evt-b")
        app = (await m.as_citizen("GET", f"/applications/{app['id']}", director)).json()
        assert app["status"] == "under_review" and _steps(app).count("paid") == 1

        path = f"/applications/{app['id']}/decision"
        body = {"decision": "approve", "reason": "Үй-жай талаптарға сай / помещение соответствует"}
        # not officers: the applicant, another agency even with an officer purpose
        r = await m.as_citizen("POST", path, director, json=body)
        assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
        r = await m.as_agency("POST", path, "registry", purpose="officer: review", json=body)
        assert r.status_code == 403
        r = await m.as_agency("POST", path, "licensing", user=OFFICER, purpose="routine", json=body)
        assert r.status_code == 403
        r = await m.as_officer("POST", path, json={"decision": "approve", "reason": ""})
        assert r.status_code == 422 and "reason" in r.json()["errors"]

        r = await m.as_officer("POST", path, json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["status"] == "approved" and out["decision"]["decided_by"] == f"officer:{OFFICER}"
        assert out["decision"]["reason"] == body["reason"]
        r = await m.as_officer(
            "POST", path, json={"decision": "reject", "reason": "changed my mind"}
        )
        assert r.status_code == 409
        # an officer on the roster, logged in as a person, is an officer too
        r = await m.as_citizen("GET", f"/applications/{app['id']}", OFFICER)
        assert r.status_code == 200
        assert len(await m.events("licensing.application.decided")) == 1
        assert len(await m.events("licensing.license.issued")) == 1


async def test_officer_rejects_with_reason(tmp_path: Path, database_url: str | None) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        app = (await m.apply("PHARMACY", director, b, **PHARMACY)).json()
        assert await m.pay(app)
        reason = "Фармацевтің сертификаты жоқ / нет сертификата фармацевта"
        r = await m.as_officer(
            "POST",
            f"/applications/{app['id']}/decision",
            json={"decision": "reject", "reason": reason},
        )
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        app = (await m.as_citizen("GET", f"/applications/{app['id']}", director)).json()
        last = app["timeline"][-1]
        assert (last["step"], last["actor"], last["reason"]) == (
            "rejected",
            f"officer:{OFFICER}",
            reason,
        )
        assert app["license_number"] is None


# -- SLA: overdue across a weekend and a holiday ----------------------------------------------
async def test_overdue_detection_across_weekend_and_nauryz(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        waiting = (
            await m.apply(
                "EXPORT_IMPORT_ONEOFF", director, b, contract_number="C-1", hs_code="300490"
            )
        ).json()
        pharmacy = (await m.apply("PHARMACY", director, b, **PHARMACY)).json()
        assert await m.pay(pharmacy)  # paid, waiting for an officer
        rejected = (await m.apply("PHARMACY", director, bin_(8), **PHARMACY)).json()
        assert rejected["status"] == "rejected"

        # 5 working days from Friday 20 March 2026: Sat-Sun, Nauryz 23 March and the two
        # weekend Nauryz days moved to 24-25 March are not working days
        # → 26, 27, 30, 31 March, 1 April
        assert datetime.fromisoformat(waiting["sla"]["due_at"]) == datetime(
            2026, 4, 1, 23, 59, 59, tzinfo=ALMATY
        )
        # 15 working days for a pharmacy → 15 April
        assert datetime.fromisoformat(pharmacy["sla"]["due_at"]).astimezone(ALMATY).date() == date(
            2026, 4, 15
        )

        ctx = m.ctx
        # a calendar blind to holidays would call it overdue on 27 March: it is not
        m.clock.set(datetime(2026, 3, 31, 23, 0, tzinfo=ALMATY))
        assert await services.detect_overdue(ctx, _uows(m)) == 0
        m.clock.set(datetime(2026, 4, 1, 23, 59, 59, tzinfo=ALMATY))
        assert await services.detect_overdue(ctx, _uows(m)) == 0

        # one second after the end of the working day the watcher (background loop) reports it
        m.clock.set(datetime(2026, 4, 2, 0, 0, 1, tzinfo=ALMATY))

        async def flagged() -> bool:
            r = await m.as_citizen("GET", f"/applications/{waiting['id']}", director)
            return r.json()["sla"]["violation_recorded_at"] is not None

        await eventually(flagged, within=10, what="the SLA watcher to flag the application")
        app = (await m.as_citizen("GET", f"/applications/{waiting['id']}", director)).json()
        assert app["sla"]["overdue"] is True and app["status"] == "awaiting_payment"
        step = [s for s in app["timeline"] if s["step"] == "sla_violated"]
        assert len(step) == 1 and step[0]["actor"] == "licensing:sla"

        # the pharmacy application (due 15 April) was still in time until then
        m.clock.set(datetime(2026, 4, 16, 9, 0, tzinfo=ALMATY))

        async def both() -> bool:
            return len(await m.events("licensing.application.overdue")) == 2

        await eventually(both, within=10, what="the second SLA violation")
        assert await services.detect_overdue(ctx, _uows(m)) == 0  # exactly once per application
        overdue = await m.events("licensing.application.overdue")
        assert sorted(e["data"]["application_id"] for e in overdue) == sorted(
            [waiting["id"], pharmacy["id"]]
        )
        assert {e["data"]["status"] for e in overdue} == {"awaiting_payment", "under_review"}

        r = await m.as_officer("GET", "/stats")
        assert r.status_code == 200, r.text
        s = r.json()["applications"]
        assert s["sla_violations"] == 2 and s["open_past_due"] == 2 and s["total"] == 3
        assert s["by_status"] == {"awaiting_payment": 1, "under_review": 1, "rejected": 1}
        r = await m.as_citizen("GET", "/stats", director)
        assert r.status_code == 403

        # decided late: the decision records that the term was missed
        r = await m.as_officer(
            "POST",
            f"/applications/{pharmacy['id']}/decision",
            json={"decision": "approve", "reason": "ok, late"},
        )
        assert r.json()["sla"]["decided_in_time"] is False
        decided = [
            e for e in await m.events("licensing.application.decided") if e["data"]["approved"]
        ]
        assert decided[0]["data"]["within_sla"] is False


# -- liquidation revokes licenses -------------------------------------------------------------
async def test_liquidation_revokes_every_license_of_the_bin(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b, tour = await _licensed(m, 1, "TOUR_OPERATOR")
        exports = (
            await m.apply(
                "EXPORT_IMPORT_ONEOFF", director, b, contract_number="C-9", hs_code="300490"
            )
        ).json()
        assert await m.pay(exports)
        export_number = (
            await m.as_citizen("GET", f"/applications/{exports['id']}", director)
        ).json()["license_number"]
        r = await m.as_officer(
            "POST", f"/licenses/{export_number}/suspend", json={"reason": "тексеру / inspection"}
        )
        assert r.status_code == 200 and r.json()["status"] == "suspended"
        pending = (await m.apply("PHARMACY", director, b, **PHARMACY)).json()
        _, _, other = await _licensed(m, 2, "TOUR_OPERATOR")  # another business

        liquidated = LegalEntityStatusChanged(
            bin=b,
            old_status="active",
            new_status="liquidated",
            reason="решение участников",
            effective_date=date(2026, 3, 20),
        )
        assert await m.deliver(liquidated, source="/svc-registry")

        for number in (tour, export_number):
            r = await m.client.get(f"/public/licenses/{number}")
            lic = r.json()
            assert lic["status"] == "revoked" and lic["in_force"] is False
            assert (
                "liquidated" in lic["status_reason"]
                and "решение участников" in lic["status_reason"]
            )
        revoked = await m.events("licensing.license.revoked")
        assert sorted(e["data"]["number"] for e in revoked) == sorted([tour, export_number])
        assert all(e["data"]["holder"] == b for e in revoked)
        app = (await m.as_citizen("GET", f"/applications/{pending['id']}", director)).json()
        assert app["status"] == "rejected" and app["decision"]["decided_by"] == "registry"
        assert (await m.client.get(f"/public/licenses/{other}")).json()["status"] == "active"

        # heard again (another event id): nothing left to revoke
        assert await m.deliver(liquidated, source="/svc-registry")
        assert len(await m.events("licensing.license.revoked")) == 2
        # a status change other than liquidation leaves licenses alone
        _, b3, third = await _licensed(m, 3, "TOUR_OPERATOR")
        await m.deliver(
            LegalEntityStatusChanged(
                bin=b3,
                old_status="active",
                new_status="suspended",
                reason="tax",
                effective_date=date(2026, 3, 20),
            ),
            source="/svc-registry",
        )
        assert (await m.client.get(f"/public/licenses/{third}")).json()["status"] == "active"


# -- issuance, public verification, tampering --------------------------------------------------
def _tamper(token: str, **changes: Any) -> str:
    head, body, sig = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    forged = (
        base64.urlsafe_b64encode(json.dumps(data, ensure_ascii=False).encode())
        .rstrip(b"=")
        .decode()
    )
    return f"{head}.{forged}.{sig}"


async def test_verify_endpoint_detects_a_tampered_document(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b, number = await _licensed(m, 1)
        r = await m.as_citizen("GET", f"/licenses/{number}", director)
        assert r.status_code == 200, r.text
        lic = r.json()
        assert lic["status"] == "active" and lic["in_force"] and lic["valid_until"] is None
        assert lic["license_type_name"]["kk"] == "Туроператорлық қызмет"
        assert [h["step"] for h in lic["history"]] == ["issued"]
        document = lic["document"]
        assert document and document.count(".") == 2

        r = await m.client.post("/public/licenses/verify", json={"document": document})
        out = r.json()
        assert r.status_code == 200 and out["valid"] and out["authentic"], out
        assert out["signer"] == "licensing" and out["license"]["number"] == number
        assert out["license"]["holder"] == b

        r = await m.client.post(
            "/public/licenses/verify", json={"document": _tamper(document, holder=bin_(6))}
        )
        out = r.json()
        assert out["valid"] is False and out["authentic"] is False
        assert "altered" in out["reason"] and out["license"] is None

        r = await m.client.post("/public/licenses/verify", json={"document": "not-a-document"})
        assert r.json()["valid"] is False and r.json()["reason"]

        foreign = (
            TestCA("Impostor CA")
            .signer("licensing")
            .sign({"typ": "kz.egov.license", "number": number, "holder": b})
        )
        out = (await m.client.post("/public/licenses/verify", json={"document": foreign})).json()
        assert out["valid"] is False and "national CA" in out["reason"]

        # the signing certificate was revoked at the CA before it signed: not authentic
        leaf_serial = m.ctx.document_keys.signer().chain[0].serial_number
        m.revoked_certs.add(leaf_serial)
        out = (await m.client.post("/public/licenses/verify", json={"document": document})).json()
        assert out["valid"] is False and "revoked" in out["reason"]
        m.revoked_certs.clear()

        # authentic but no longer in force
        r = await m.as_officer(
            "POST", f"/licenses/{number}/revoke", json={"reason": "грубое нарушение"}
        )
        assert r.status_code == 200 and r.json()["status"] == "revoked"
        out = (await m.client.post("/public/licenses/verify", json={"document": document})).json()
        assert out["authentic"] is True and out["valid"] is False
        assert out["reason"] == "the license is revoked: грубое нарушение"
        r = await m.as_officer("POST", f"/licenses/{number}/revoke", json={"reason": "again"})
        assert r.status_code == 409

        r = await m.client.get("/public/licenses/KZ26LIC99999999")
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM


async def test_suspension_and_reinstatement(tmp_path: Path, database_url: str | None) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, _, number = await _licensed(m, 1)
        r = await m.as_citizen(
            "POST", f"/licenses/{number}/suspend", director, json={"reason": "I want to"}
        )
        assert r.status_code == 403
        r = await m.as_officer(
            "POST", f"/licenses/{number}/suspend", json={"reason": "тексеру кезінде"}
        )
        assert r.json()["status"] == "suspended" and not r.json()["in_force"]
        public = (await m.client.get(f"/public/licenses/{number}")).json()
        assert public["status"] == "suspended" and public["status_reason"] == "тексеру кезінде"
        r = await m.as_officer("POST", f"/licenses/{number}/suspend", json={"reason": "twice"})
        assert r.status_code == 409
        r = await m.as_officer(
            "POST", f"/licenses/{number}/reinstate", json={"reason": "бұзушылық жойылды"}
        )
        assert r.json()["status"] == "active"
        assert [h["step"] for h in r.json()["history"]] == ["issued", "suspended", "reinstated"]
        assert len(await m.events("licensing.license.suspended")) == 1
        assert len(await m.events("licensing.license.reinstated")) == 1


async def test_limited_validity_and_expiry(tmp_path: Path, database_url: str | None) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        app = (
            await m.apply(
                "EXPORT_IMPORT_ONEOFF", director, b, contract_number="C-1", hs_code="300490"
            )
        ).json()
        assert await m.pay(app)
        app = (await m.as_citizen("GET", f"/applications/{app['id']}", director)).json()
        lic = (await m.client.get(f"/public/licenses/{app['license_number']}")).json()
        assert (lic["valid_from"], lic["valid_until"]) == ("2026-03-20", "2027-03-20")
        m.clock.set(datetime(2027, 3, 21, 9, 0, tzinfo=ALMATY))
        lic = (await m.client.get(f"/public/licenses/{app['license_number']}")).json()
        assert lic["status"] == "expired" and lic["in_force"] is False


# -- input, authorisation, catalogue -----------------------------------------------------------
async def test_catalogue_is_public_and_complete(tmp_path: Path, database_url: str | None) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        r = await m.client.get("/license-types")
        types = r.json()
        assert r.status_code == 200 and len(types) >= 10
        codes = {t["code"] for t in types}
        assert {
            "PHARMACY",
            "CONSTRUCTION_II",
            "ALCOHOL_RETAIL",
            "PRIVATE_SECURITY",
            "EDUCATION_SECONDARY",
            "MEDICAL_PRACTICE",
        } <= codes
        kazakh = set("ӘҒҚҢӨҰҮҺІәғқңөұүһі")
        assert all(kazakh & set(t["name"]["kk"] + t["authority"]["kk"]) for t in types)
        assert all(
            isinstance(t["state_duty_tiyn"], int) and t["state_duty_tiyn"] > 0 for t in types
        )
        # the public catalogue shows the fee in the MRP of the day, on payments' licence line
        pharmacy = next(t for t in types if t["code"] == "PHARMACY")
        today = local_date(datetime.now(UTC))
        assert pharmacy["state_duty_tiyn"] == 10 * mrp_tiyn(today)
        assert {t["kbk"] for t in types} == {kbk("licence_fee")}
        assert any(t["unlimited"] for t in types) and any(t["validity_months"] for t in types)
        r = await m.client.get("/license-types/PHARMACY")
        assert r.json()["sla_working_days"] == 15 and r.json()["currency"] == "KZT"
        r = await m.client.get("/license-types/NOPE")
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM


async def test_bad_input_and_authorisation(tmp_path: Path, database_url: str | None) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        body = {"license_type": "PHARMACY", "applicant_iin": "900115300123", "details": PHARMACY}
        r = await m.as_citizen("POST", "/applications", director, json=body)
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
        assert "check digit" in r.json()["errors"]["applicant_iin"]
        body = {
            "license_type": "PHARMACY",
            "applicant_iin": director,
            "applicant_bin": "12345",
            "details": {},
        }
        r = await m.as_citizen("POST", "/applications", director, json=body)
        assert r.status_code == 422 and "applicant_bin" in r.json()["errors"]
        # a citizen applies only for themselves
        body = {
            "license_type": "PHARMACY",
            "applicant_iin": director,
            "applicant_bin": b,
            "details": PHARMACY,
        }
        r = await m.as_citizen("POST", "/applications", iin(60), json=body)
        assert r.status_code == 403
        # an agency acting on behalf of someone else than the applicant
        r = await m.as_agency("POST", "/applications", "gateway", user=iin(60), json=body)
        assert r.status_code == 403
        r = await m.as_citizen(
            "POST", "/applications", director, json={**body, "license_type": "NOPE"}
        )
        assert r.status_code == 404
        # bypassing the gateway
        r = await m.client.post("/applications", json=body)
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
        # the single window files as the person it acts for (their own call, their own rights)
        r = await m.as_citizen("POST", "/applications", director, json=body)
        assert r.status_code == 201 and r.json()["submitted_by"] == f"citizen:{director}"
        # missing details → rejected, saying which
        r = await m.apply("PHARMACY", director, b)
        assert "lacks: premises_address, pharmacist_iin" in r.json()["decision"]["reason"]

        r = await m.as_citizen("GET", f"/applications?applicant={director}", director)
        assert r.status_code == 200 and len(r.json()) == 2
        r = await m.as_citizen("GET", f"/applications?applicant={b}", director)
        assert len(r.json()) == 2
        r = await m.as_citizen("GET", f"/applications?applicant={director}", iin(60))
        assert r.status_code == 403
        r = await m.as_citizen("GET", "/applications?applicant=12", director)
        assert r.status_code == 422
        r = await m.as_officer("GET", f"/applications?applicant={b}")
        assert len(r.json()) == 2


async def test_idempotent_submission_and_invoice_retry(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await _business(m, 1)
        m.doubles.payments_down = True
        body = {
            "license_type": "TOUR_OPERATOR",
            "applicant_iin": director,
            "applicant_bin": b,
            "details": {"insurance_contract": "ДС-7"},
        }
        hdrs = {"Idempotency-Key": "portal-req-0001"}
        r1 = await m.as_citizen("POST", "/applications", director, json=body, headers=hdrs)
        r2 = await m.as_citizen("POST", "/applications", director, json=body, headers=hdrs)
        assert r1.status_code == r2.status_code == 201
        assert r1.json()["id"] == r2.json()["id"]
        assert r1.json()["status"] == "awaiting_invoice"
        assert "invoice_delayed" in _steps(r1.json())
        assert len(await m.events("licensing.application.submitted")) == 1

        m.doubles.payments_down = False  # the retry loop gets the invoice once payments is back

        async def invoiced() -> bool:
            r = await m.as_citizen("GET", f"/applications/{r1.json()['id']}", director)
            return r.json()["status"] == "awaiting_payment"

        await eventually(invoiced, within=10, what="the invoice retry")
        assert list(m.doubles.invoices) == [r1.json()["id"]]
        app = (await m.as_citizen("GET", f"/applications/{r1.json()['id']}", director)).json()
        assert (
            _steps(app).count("invoice_delayed") == 1 and _steps(app).count("invoice_issued") == 1
        )


async def test_sla_due_times_use_the_injected_clock(tmp_path: Path) -> None:
    start = datetime(2026, 5, 22, 17, 0, tzinfo=ALMATY)  # Friday before Kurban Ait (Wed 27 May)
    async with licensing_mesh(tmp_path, database_url=None, start=start) as m:
        director, b = await _business(m, 1)
        app = (
            await m.apply("EXPORT_IMPORT_ONEOFF", director, b, contract_number="C", hs_code="1")
        ).json()
        # 25, 26, (27 Kurban Ait), 28, 29 May, 1 June
        assert datetime.fromisoformat(app["sla"]["due_at"]) == datetime(
            2026, 6, 1, 23, 59, 59, tzinfo=ALMATY
        )
        assert datetime.fromisoformat(app["submitted_at"]) == start.astimezone(UTC)


async def test_license_issued_before_the_key_is_certified_is_signed_later(tmp_path: Path) -> None:

    # the CA has not answered yet
    async with licensing_mesh(tmp_path, database_url=None, start=FRIDAY, certified=False) as m:
        director, _, number = await _licensed(m, 1)
        lic = (await m.as_citizen("GET", f"/licenses/{number}", director)).json()
        assert lic["status"] == "active" and lic["document"] is None

        # certified now: the retry loop signs what is pending
        m.ctx.document_keys.use(m.ca.signer("licensing"))

        async def signed() -> bool:
            r = await m.as_citizen("GET", f"/licenses/{number}", director)
            return r.json()["document"] is not None

        await eventually(signed, within=10, what="the pending license to be signed")
        document = (await m.as_citizen("GET", f"/licenses/{number}", director)).json()["document"]
        out = (await m.client.post("/public/licenses/verify", json={"document": document})).json()
        assert out["valid"] is True and out["license"]["number"] == number
