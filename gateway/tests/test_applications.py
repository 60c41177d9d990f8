"""Applications and the durable process engine, in process: the real gateway (seeded Unified
Register, SQLite and PostgreSQL), a scripted routed exchange for the agencies, and agency
events handed to the gateway's handlers as its Kafka consumer would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from egov_gateway.bootstrap import overrides_of
from egov_gateway.singlewindow.applications.adapters.repository import ApplicationRepository
from egov_gateway.singlewindow.applications.adapters.tables import applications, waits
from egov_gateway.singlewindow.applications.domain.model import (
    ServicePlan,
    StepPlan,
    build_request,
    resolve,
)
from egov_gateway.singlewindow.applications.domain.ports import CallOutcome
from egov_gateway.singlewindow.applications.service_layer.service import (
    applications_of,
    on_agency_event,
    submit_application,
)
from meshkit.contracts.notary import ActRegistered
from meshkit.contracts.payments import InvoicePaid, PayoutCompleted
from meshkit.contracts.registry import (
    BirthRegistered,
    LegalEntityRegistered,
    PropertyTransferred,
)
from meshkit.events import EventData, TypedEvent, build_envelope
from meshkit.messaging.tables import outbox_journal
from meshkit_testing.apps import running
from meshkit_testing.gateway import ISSUER, TestIdentity
from meshkit_testing.polling import eventually
from meshkit_testing.services import build_app

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

MOTHER = "920308400210"
FATHER = "900115300122"
CHILD = "260101600017"
BIRTH = {
    "surname": "Сәрсенбаев",
    "given_name": "Нұрсұлтан",
    "patronymic": "Әлиханұлы",
    "birth_date": "2026-01-01",
    "sex": "male",
    "place": "Алматы қ.",
    "mother_iin": MOTHER,
    "father_iin": FATHER,
}
LLP = {
    "name_kk": "«Дала Софт» ЖШС",
    "name_ru": "ТОО «Дала Софт»",
    "founders": [{"id": FATHER, "share": {"num": 1, "den": 1}}],
    "address": "Алматы қ., Абай д., 1",
}
LEGAL_BIN = "260140000018"
# progress must come from submissions and events, not from the periodic sweep
SWEEP_S = 60.0


@dataclass
class ScriptedExchange:
    """The routed exchange as the engine sees it: answers per operation, every call kept."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, Callable[[dict[str, Any]], CallOutcome]] = field(default_factory=dict)

    async def call(
        self,
        request: Any,
        *,
        on_behalf_of: str,
        purpose: str,
        request_id: str,
        idempotency_key: str,
        application_id: str = "",
        service_code: str = "",
    ) -> CallOutcome:
        key = f"{request.method} {request.agency}{request.path}"
        seen = {
            "key": key,
            "body": request.body,
            "query": request.query,
            "user": on_behalf_of,
            "purpose": purpose,
            "request_id": request_id,
            "idempotency_key": idempotency_key,
        }
        self.calls.append(seen)
        for prefix, answer in self.answers.items():
            if key.startswith(prefix):
                return answer(seen)
        return CallOutcome(False, 404, detail="no such operation in the script")


class _Refuse(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("agencies are not part of this test")


@dataclass
class Harness:
    client: httpx.AsyncClient
    app: FastAPI
    identity: TestIdentity
    exchange: ScriptedExchange

    def citizen(self, iin: str = MOTHER) -> dict[str, str]:
        return self.identity.bearer("citizen", iin)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    async def deliver(self, data: EventData, *, subject: str, correlation: str | None) -> None:
        """What the gateway's Kafka consumer does with an agency event (inbox aside)."""
        env = build_envelope(
            data, source=f"/svc-{data.producer()}", subject=subject, correlation_id=correlation
        )
        uow = self.runtime.uow_factory()
        async with uow:
            await on_agency_event(TypedEvent(envelope=env, data=data), uow)
            await uow.commit()

    async def app_json(self, app_id: str, iin: str = MOTHER) -> dict[str, Any]:
        r = await self.client.get(f"/api/v1/applications/{app_id}", headers=self.citizen(iin))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def until_status(self, app_id: str, *statuses: str, iin: str = MOTHER) -> dict[str, Any]:
        found: dict[str, Any] = {}

        async def reached() -> bool:
            found.update(await self.app_json(app_id, iin))
            return found["status"] in statuses

        await eventually(reached, within=15, what=f"application {app_id} {statuses}")
        return found


def person(iin: str) -> Callable[[dict[str, Any]], CallOutcome]:
    return lambda _: CallOutcome(True, 200, {"iin": iin, "surname": "Сәрсенбаева"})


async def _harness(
    tmp_path: Path, db_url: str, exchange: ScriptedExchange
) -> AsyncIterator[Harness]:
    identity = TestIdentity(tmp_path)
    app = build_app(
        "gateway",
        tmp_path / "gw",
        kafka_enabled=False,
        database_url=db_url,
        identity_jwks_url=identity.jwks_url,
        identity_issuer=ISSUER,
        register_options={"background": False},
        applications={
            "sweep_interval_s": 0.2,
            "step_retry_for_s": 0.5,
            "step_retry_backoff_s": 0.05,
        },
    )
    overrides_of(app).register_transport = _Refuse()
    overrides_of(app).applications_caller = exchange
    async with running(app) as client:
        yield Harness(client, app, identity, exchange)


@pytest.fixture
async def sw(tmp_path: Path, db_url: str) -> AsyncIterator[Harness]:
    async for h in _harness(tmp_path, db_url, ScriptedExchange()):
        yield h


@pytest.fixture
async def sw_pg(tmp_path: Path, pg_url: str) -> AsyncIterator[Harness]:
    """The same on PostgreSQL: concurrent transactions as in production."""
    async for h in _harness(tmp_path, pg_url, ScriptedExchange()):
        yield h


# -- the domain, without I/O --------------------------------------------------------------------
def test_input_mapping_reads_payload_applicant_and_earlier_steps() -> None:
    scope = {
        "payload": {"cadastral_number": "20:321:045:12", "buyers": [{"iin": FATHER}]},
        "applicant": MOTHER,
        "submitted_at": datetime(2026, 3, 20, 6, 0, tzinfo=UTC),
        "steps": {"check": {"result": {"owners": [{"iin": "1"}]}, "event": None}},
    }
    assert resolve("$.applicant", scope) == MOTHER
    assert resolve("$.steps.check.result.owners", scope) == [{"iin": "1"}]
    assert resolve("$.today_plus_days.10", scope) == "2026-03-30"
    assert resolve({"a": "$.payload.nothing", "b": "literal"}, scope) == {"b": "literal"}
    req = build_request(
        "registry:GET /properties/{cadastral_number}",
        {"path": {"cadastral_number": "$.payload.cadastral_number"}},
        scope,
    )
    assert (req.agency, req.method, req.path) == ("registry", "GET", "/properties/20:321:045:12")
    with pytest.raises(Exception, match="not known yet"):
        build_request(
            "registry:GET /legal-entities/{bin}", {"path": {"bin": "$.steps.x.event.bin"}}, scope
        )


def test_due_time_counts_kazakh_working_days() -> None:
    plan = ServicePlan(
        "s", "registry", "simple", [StepPlan("run", "registry:GET /x")], 3, "working_days"
    )
    # Friday 20 March 2026, before Nauryz (21–23 March, Saturday moves to Wednesday 25 March)
    due = plan.due_at(datetime(2026, 3, 20, 6, 0, tzinfo=UTC))
    # Mon 23 Mar is Nauryz, Tue 24 — no: 21 (Sat) moves to 24 and 22 (Sun) to 25; so 26, 27, 30
    assert due.astimezone(UTC).date() == date(2026, 3, 30)
    minutes = ServicePlan("s", "registry", "simple", [], 15, "minutes")
    assert minutes.due_at(datetime(2026, 3, 20, 6, 0, tzinfo=UTC)) == datetime(
        2026, 3, 20, 6, 15, tzinfo=UTC
    )


# -- applications through the API ------------------------------------------------------------------
async def test_birth_of_a_child_runs_three_agencies_as_the_mother(
    sw: Harness,
) -> None:
    ex = sw.exchange
    ex.answers["GET identity/persons/"] = lambda c: CallOutcome(
        True, 200, {"iin": c["key"].rsplit("/", 1)[1], "surname": "Сәрсенбаева"}
    )
    ex.answers["POST registry/births"] = lambda _: CallOutcome(
        True, 201, {"act_number": "B-2026-0000001", "child_iin": CHILD}
    )
    ex.answers["POST registry/certificates"] = certificate("birth", CHILD)
    ex.answers["POST payments/allowances"] = lambda _: CallOutcome(
        True, 201, {"id": "po-1", "status": "completed"}
    )
    r = await sw.client.post(
        "/api/v1/applications",
        json={"service_code": "cx-birth-of-child", "payload": BIRTH},
        headers=sw.citizen(MOTHER),
    )
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    assert r.json()["applicant_iin"] == MOTHER and r.json()["kind"] == "composite"
    waiting = await sw.until_status(app_id, "waiting")
    assert [s["status"] for s in waiting["steps"]][:2] == ["done", "waiting"]
    # once-only: the applicant's record came from identity, on her behalf, for this application
    first = ex.calls[0]
    assert first["key"] == f"GET identity/persons/{MOTHER}" and first["user"] == MOTHER
    assert app_id in first["purpose"]
    births = [c for c in ex.calls if c["key"] == "POST registry/births"]
    assert (
        births[0]["body"]["mother_iin"] == MOTHER and births[0]["body"]["surname"] == "Сәрсенбаев"
    )

    # registry's event, correlated by the request id the gateway sent
    await sw.deliver(
        BirthRegistered(
            act_number="B-2026-0000001",
            child_iin=CHILD,
            surname="Сәрсенбаев",
            given_name="Нұрсұлтан",
            birth_date=date(2026, 1, 1),
            sex="male",
            place="Алматы қ.",
            mother_iin=MOTHER,
            registered_at=datetime.now(UTC),
        ),
        subject=CHILD,
        correlation=births[0]["request_id"],
    )

    async def payout_requested() -> bool:
        return any(c["key"] == "POST payments/allowances" for c in ex.calls)

    await eventually(payout_requested, within=10, what="the allowance payout")
    payout = next(c for c in ex.calls if c["key"] == "POST payments/allowances")
    # the mother claims it herself: no recipient, no amount in the request (payments owns both)
    assert payout["user"] == MOTHER
    assert payout["body"] == {
        "kind": "childbirth",
        "subject_iin": CHILD,
        "reference": "B-2026-0000001",  # from the registry's event
    }
    assert payout["idempotency_key"] == f"{app_id}:birth_allowance"
    assert any(c["key"] == f"GET identity/persons/{CHILD}" for c in ex.calls)
    # the registry issues the child's birth certificate to the mother
    cert = next(c for c in ex.calls if c["key"] == "POST registry/certificates")
    assert cert["body"] == {"kind": "birth", "subject": CHILD} and cert["user"] == MOTHER
    await sw.until_status(app_id, "waiting")
    # payments' event names the payout (its correlation id is not ours: matched by the id)
    await sw.deliver(
        PayoutCompleted(
            payout_id="po-1",
            agency="gateway",
            recipient_iin=MOTHER,
            amount_tiyn=38 * 393_200,
            reference="B-2026-0000001",
            purpose="childbirth allowance",
        ),
        subject="po-1",
        correlation="some-other-request",
    )
    done = await sw.until_status(app_id, "completed")
    assert done["result"]["payout_id"] == "po-1" and done["completed_at"]
    kinds = [(t["kind"], t["step"]) for t in done["timeline"]]
    assert ("submitted", None) in kinds and ("step_done", "birth_allowance") in kinds
    assert all(t["at"] and t["actor"] for t in done["timeline"])

    # my applications; someone else cannot read it; rating once, only after completion
    mine = await sw.client.get("/api/v1/me/applications", headers=sw.citizen(MOTHER))
    assert [a["id"] for a in mine.json()["items"]] == [app_id]
    other = await sw.client.get(f"/api/v1/applications/{app_id}", headers=sw.citizen(FATHER))
    assert other.status_code == 404
    rate = {"rating": 5, "comment": "Бәрі жылдам!"}
    r = await sw.client.post(
        f"/api/v1/applications/{app_id}/rating", json=rate, headers=sw.citizen()
    )
    assert (
        r.status_code == 200
        and r.json()["rating"] == 5
        and r.json()["rating_comment"] == "Бәрі жылдам!"
    )
    again = await sw.client.post(
        f"/api/v1/applications/{app_id}/rating", json=rate, headers=sw.citizen()
    )
    assert again.status_code == 409
    # submitted + status changes went to the outbox in the same transactions
    async with sw.runtime.engine.connect() as conn:
        types = list((await conn.execute(select(journal.c.event_type))).scalars())
        left = (await conn.execute(select(func.count()).select_from(waits))).scalar_one()
    assert types.count("kz.egov.gateway.application.submitted.v1") == 1
    assert types.count("kz.egov.gateway.application.status_changed.v1") >= 3
    assert left == 0, "a finished application leaves no waits behind"


async def test_invalid_payload_is_a_422_with_field_errors(sw: Harness) -> None:
    bad = {**BIRTH, "sex": "unknown", "mother_iin": "12", "extra": 1}
    del bad["surname"]
    r = await sw.client.post(
        "/api/v1/applications",
        json={"service_code": "cx-birth-of-child", "payload": bad},
        headers=sw.citizen(),
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert {"payload.surname", "payload.sex", "payload.mother_iin", "payload.extra"} <= set(errors)
    unknown = await sw.client.post(
        "/api/v1/applications",
        json={"service_code": "no-such", "payload": {}},
        headers=sw.citizen(),
    )
    assert unknown.status_code == 422 and "service_code" in unknown.json()["errors"]
    anonymous = await sw.client.post(
        "/api/v1/applications", json={"service_code": "cx-birth-of-child", "payload": BIRTH}
    )
    assert anonymous.status_code == 401


async def test_an_agencys_refusal_is_the_answer_to_the_submission(sw: Harness) -> None:
    """The attacker's test: a stranger named as the mother. The registry refuses the step run
    as the applicant (her citizen rule), and the citizen hears it at once — a 403 problem in
    the agency's words — not a 'submitted' application that fails later."""
    ex = sw.exchange
    ex.answers["GET identity/persons/"] = person(FATHER)
    ex.answers["POST registry/births"] = lambda _: CallOutcome(
        False, 403, detail="registry: you can register the birth only of your own child"
    )
    r = await sw.client.post(
        "/api/v1/applications",
        json={"service_code": "cx-birth-of-child", "payload": {**BIRTH, "mother_iin": MOTHER}},
        headers=sw.citizen(FATHER),
    )
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == "registry: you can register the birth only of your own child"
    birth = next(c for c in ex.calls if c["key"] == "POST registry/births")
    assert birth["user"] == FATHER  # asked as the applicant, never as the gateway
    assert not any(c["key"].startswith("POST payments") for c in ex.calls)
    # the attempt is on the applicant's record, failed with the reason (nothing was done)
    mine = await sw.client.get("/api/v1/me/applications", headers=sw.citizen(FATHER))
    [attempt] = mine.json()["items"]
    assert attempt["status"] == "failed"
    # the user's test: the mother herself is not refused at the door
    ex.answers["POST registry/births"] = lambda _: CallOutcome(
        True, 201, {"act_number": "B-2026-0000002", "child_iin": CHILD}
    )
    ok = await sw.client.post(
        "/api/v1/applications",
        json={"service_code": "cx-birth-of-child", "payload": BIRTH},
        headers=sw.citizen(MOTHER),
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "waiting"  # answered: registered, awaiting the registry's event


async def test_a_failing_step_compensates_in_reverse_and_says_why(sw: Harness) -> None:
    ex = sw.exchange
    ex.answers["GET identity/persons/"] = person(FATHER)
    ex.answers["POST registry/legal-entities/"] = lambda _: CallOutcome(
        True, 200, {"bin": LEGAL_BIN}
    )
    ex.answers["POST registry/legal-entities"] = lambda _: CallOutcome(
        True, 201, {"bin": LEGAL_BIN}
    )
    ex.answers["GET payments/invoices"] = lambda _: CallOutcome(
        False, 422, detail="payments: the payer is not known", retryable=False
    )
    r = await sw.client.post(
        "/api/v1/applications",
        json={"service_code": "cx-open-business", "payload": LLP},
        headers=sw.citizen(FATHER),
    )
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    await sw.until_status(app_id, "waiting", iin=FATHER)
    llp = next(c for c in ex.calls if c["key"] == "POST registry/legal-entities")
    assert llp["body"]["director_iin"] == FATHER  # once-only: from the token, not the form
    await sw.deliver(
        LegalEntityRegistered(
            bin=LEGAL_BIN,
            name_kk=LLP["name_kk"],
            name_ru=LLP["name_ru"],
            legal_form="LLP",
            director_iin=FATHER,
            founders=[],
            registered_at=datetime.now(UTC),
        ),
        subject=LEGAL_BIN,
        correlation=llp["request_id"],
    )
    failed = await sw.until_status(app_id, "failed", iin=FATHER)
    assert (
        "state_duty" in failed["failure_reason"]
        and "payer is not known" in failed["failure_reason"]
    )
    undo = [c for c in ex.calls if c["key"] == f"POST registry/legal-entities/{LEGAL_BIN}/status"]
    assert len(undo) == 1 and undo[0]["body"]["status"] == "liquidated"
    steps = {s["name"]: s["status"] for s in failed["steps"]}
    assert steps == {
        "applicant_record": "done",
        "register_llp": "compensated",
        "state_duty": "failed",
        "license_application": "pending",
        "registration_certificate": "pending",
    }
    kinds = [t["kind"] for t in failed["timeline"]]
    assert kinds.index("step_failed") < kinds.index("compensated")
    # a failed application cannot be rated
    r = await sw.client.post(
        f"/api/v1/applications/{app_id}/rating", json={"rating": 1}, headers=sw.citizen(FATHER)
    )
    assert r.status_code == 422


async def test_an_unavailable_agency_is_retried_then_fails_the_step(sw: Harness) -> None:
    ex = sw.exchange
    ex.answers["GET identity/persons/"] = lambda _: CallOutcome(
        False, 503, retryable=True, detail="identity: unavailable"
    )
    view = await submit_application(sw.runtime, MOTHER, "cx-birth-of-child", BIRTH, origin="offer")
    assert view.origin == "offer"
    failed = await sw.until_status(view.id, "failed")
    assert failed["steps"][0]["attempts"] >= 2
    assert "identity: unavailable" in failed["failure_reason"]


def llp_registered() -> LegalEntityRegistered:
    return LegalEntityRegistered(
        bin=LEGAL_BIN,
        name_kk="a",
        name_ru="b",
        legal_form="LLP",
        director_iin=FATHER,
        founders=[],
        registered_at=datetime.now(UTC),
    )


def certificate(kind: str, subject: str) -> Callable[[dict[str, Any]], CallOutcome]:
    return lambda seen: CallOutcome(
        True,
        201,
        {"number": "RC-2026-0000042-K7M2Q9XD", "kind": kind, "subject": subject, "document": "x"},
    )


async def test_waiting_paid_invoice_step_and_overdue_detection_once(sw: Harness) -> None:
    """Open a business with a license: payments issues the duty itself (reference: the
    application), the step reads the entity's invoices (none yet) and waits; the citizen pays
    in another request; the license application and the registration certificate follow."""
    ex = sw.exchange
    ex.answers["GET identity/persons/"] = person(FATHER)
    ex.answers["POST registry/legal-entities"] = lambda _: CallOutcome(
        True, 201, {"bin": LEGAL_BIN}
    )
    ex.answers["GET payments/invoices"] = lambda _: CallOutcome(True, 200, [])
    ex.answers["POST licensing/applications"] = lambda _: CallOutcome(
        True, 201, {"id": "lic-app-1", "status": "awaiting_payment"}
    )
    ex.answers["POST registry/certificates"] = certificate("legal_entity_registration", LEGAL_BIN)
    license = {"license_type": "EXPORT_IMPORT_ONEOFF", "details": {"hs_code": "0901"}}
    view = await submit_application(
        sw.runtime, FATHER, "cx-open-business", {**LLP, "license": license}
    )
    await sw.until_status(view.id, "waiting", iin=FATHER)
    llp = next(c for c in ex.calls if c["key"] == "POST registry/legal-entities")
    assert llp["body"]["application_ref"] == view.id  # the duty's reference
    await sw.deliver(llp_registered(), subject=LEGAL_BIN, correlation=llp["request_id"])

    async def duty_read() -> bool:
        return any(c["key"] == "GET payments/invoices" for c in ex.calls)

    await eventually(duty_read, within=10, what="the duty invoice read")
    read = next(c for c in ex.calls if c["key"] == "GET payments/invoices")
    assert read["query"] == {"payer": LEGAL_BIN}
    # nobody issues a second duty: payments issued it on the registry's event
    assert not any(c["key"].startswith("POST payments/invoices") for c in ex.calls)
    await sw.until_status(view.id, "waiting", iin=FATHER)
    # the term passes while the citizen has not paid: one violation, one event
    ctx = applications_of(sw.runtime)
    ctx.engine.clock = lambda: datetime(2099, 1, 1, tzinfo=UTC)
    await ctx.engine.sweep()
    await ctx.engine.sweep()
    ctx.engine.clock = lambda: datetime.now(UTC)
    late = await sw.app_json(view.id, FATHER)
    assert late["overdue"] is True
    assert [t["kind"] for t in late["timeline"]].count("overdue") == 1
    # the director pays (another request: matched by the invoice's reference, this application)
    await sw.deliver(
        InvoicePaid(
            invoice_id="inv-7",
            payer=LEGAL_BIN,
            amount_tiyn=1,
            beneficiary_agency="registry",
            reference=view.id,
            paid_at=datetime.now(UTC),
        ),
        subject="inv-7",
        correlation="payment-callback-1",
    )
    done = await sw.until_status(view.id, "completed", iin=FATHER)
    steps = {s["name"]: s for s in done["steps"]}
    assert steps["state_duty"]["event"]["invoice_id"] == "inv-7"
    lic = next(c for c in ex.calls if c["key"] == "POST licensing/applications")
    assert lic["body"] == {
        "license_type": "EXPORT_IMPORT_ONEOFF",
        "applicant_iin": FATHER,
        "applicant_bin": LEGAL_BIN,
        "details": {"hs_code": "0901"},
    }
    assert steps["license_application"]["result"]["id"] == "lic-app-1"
    cert = next(c for c in ex.calls if c["key"] == "POST registry/certificates")
    assert cert["body"] == {"kind": "legal_entity_registration", "subject": LEGAL_BIN}
    assert done["result"]["kind"] == "legal_entity_registration"
    async with sw.runtime.engine.connect() as conn:
        overdue = (
            await conn.execute(
                select(func.count())
                .select_from(journal)
                .where(journal.c.event_type == "kz.egov.gateway.application.overdue.v1")
            )
        ).scalar_one()
    assert overdue == 1


@pytest.mark.integration
@pytest.mark.postgres
async def test_an_agency_event_meets_an_application_the_engine_just_changed(
    sw_pg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the handler reading the waiting application and writing it, another
    transaction (the engine, moving it on) commits a new version: the handler reads it again
    and completes the step in the same delivery — no failed batch, no retries."""
    ex = sw_pg.exchange
    ex.answers["GET identity/persons/"] = person(FATHER)
    ex.answers["POST registry/legal-entities"] = lambda _: CallOutcome(
        True, 201, {"bin": LEGAL_BIN}
    )
    ex.answers["GET payments/invoices"] = lambda _: CallOutcome(True, 200, [])
    view = await submit_application(sw_pg.runtime, FATHER, "cx-open-business", LLP)
    await sw_pg.until_status(view.id, "waiting", iin=FATHER)
    llp = next(c for c in ex.calls if c["key"] == "POST registry/legal-entities")
    saving = ApplicationRepository.save
    writes: list[str] = []

    async def save_after_another_commit(repo: ApplicationRepository, app: Any) -> None:
        if not writes:  # the first write: someone else commits a version in between
            async with sw_pg.runtime.engine.begin() as conn:
                await conn.execute(
                    update(applications)
                    .where(applications.c.id == app.id)
                    .values(version=applications.c.version + 1)
                )
        writes.append(app.id)
        await saving(repo, app)

    monkeypatch.setattr(ApplicationRepository, "save", save_after_another_commit)
    await sw_pg.deliver(llp_registered(), subject=LEGAL_BIN, correlation=llp["request_id"])
    monkeypatch.undo()
    assert writes[:2] == [view.id, view.id]  # refused once, written on the second read

    async def duty_read() -> bool:
        return any(c["key"] == "GET payments/invoices" for c in ex.calls)

    # the event completed the registration step: the engine moved on to the duty
    await eventually(duty_read, within=10, what="the step after the event")


async def test_an_optional_step_is_skipped_and_a_paid_duty_needs_no_event(sw: Harness) -> None:
    """No license asked for: that step is skipped (and said so). The duty was paid before the
    step read it: the read shows it paid, so the step does not wait for an event that passed."""
    ex = sw.exchange
    ex.answers["GET identity/persons/"] = person(FATHER)
    ex.answers["POST registry/legal-entities"] = lambda _: CallOutcome(
        True, 201, {"bin": LEGAL_BIN}
    )
    ex.answers["GET payments/invoices"] = lambda _: CallOutcome(
        True, 200, [{"id": "inv-8", "status": "paid", "reference": "elsewhere"}]
    )
    ex.answers["POST registry/certificates"] = certificate("legal_entity_registration", LEGAL_BIN)
    view = await submit_application(sw.runtime, FATHER, "cx-open-business", LLP)
    await sw.until_status(view.id, "waiting", iin=FATHER)
    llp = next(c for c in ex.calls if c["key"] == "POST registry/legal-entities")
    await sw.deliver(llp_registered(), subject=LEGAL_BIN, correlation=llp["request_id"])
    done = await sw.until_status(view.id, "completed", iin=FATHER)
    steps = {s["name"]: s for s in done["steps"]}
    assert steps["state_duty"]["status"] == "done" and steps["state_duty"]["event"] is None
    assert steps["license_application"]["status"] == "skipped"
    assert steps["license_application"]["request"] is None
    assert not any(c["key"].startswith("POST licensing") for c in ex.calls)
    skipped = [t for t in done["timeline"] if t["kind"] == "step_skipped"]
    assert len(skipped) == 1 and "$.payload.license" in skipped[0]["reason"]
    assert done["result"]["subject"] == LEGAL_BIN
    async with sw.runtime.engine.connect() as conn:  # nothing left waiting
        left = (
            await conn.execute(
                select(func.count()).select_from(waits).where(waits.c.application_id == view.id)
            )
        ).scalar_one()
    assert left == 0


async def test_a_restarted_gateway_resumes_a_step_it_was_calling(
    tmp_path: Path, db_url: str
) -> None:
    """The gateway dies between marking a step 'calling' and the agency's answer: the next
    gateway on the same database calls again (same idempotency key) and goes on."""
    hang = asyncio.Event()
    first = ScriptedExchange()
    first.answers["GET identity/persons/"] = person(MOTHER)

    async def never(_: dict[str, Any]) -> CallOutcome:  # pragma: no cover - cancelled
        await hang.wait()
        raise AssertionError

    class Hanging(ScriptedExchange):
        async def call(self, request: Any, **kw: Any) -> CallOutcome:
            if request.path == "/births":
                self.calls.append({"key": "POST registry/births", **kw})
                await hang.wait()
            return await super().call(request, **kw)

    hanging = Hanging(answers=first.answers)
    async for h in _harness(tmp_path, db_url, hanging):
        view = await submit_application(h.runtime, MOTHER, "cx-birth-of-child", BIRTH)

        async def calling() -> bool:
            return any(c["key"] == "POST registry/births" for c in hanging.calls)

        await eventually(calling, within=10, what="the birth registration call")
        state = await h.app_json(view.id)
        assert state["steps"][1]["status"] == "calling"
    second = ScriptedExchange()
    second.answers["GET identity/persons/"] = person(MOTHER)
    second.answers["POST registry/births"] = lambda _: CallOutcome(
        True, 201, {"act_number": "B-2026-0000002", "child_iin": CHILD}
    )
    async for h in _harness(tmp_path, db_url, second):

        async def re_called() -> bool:
            return any(c["key"] == "POST registry/births" for c in second.calls)

        await eventually(re_called, within=10, what="the resumed call")
        again = next(c for c in second.calls if c["key"] == "POST registry/births")
        assert again["idempotency_key"] == f"{view.id}:register_birth"
        assert again["request_id"].endswith(".1.2")  # second attempt of step 1
        await h.until_status(view.id, "waiting")


async def test_buy_a_home_pays_the_notarys_own_fee_then_waits_for_signatures_and_transfer(
    sw: Harness,
) -> None:
    ex = sw.exchange
    cad = "20:321:045:12"
    number = "N-2026-0000042"
    seller = {"id": "780430400520", "share": {"num": 1, "den": 1}}
    ex.answers["GET identity/persons/"] = person(FATHER)
    act: dict[str, Any] = {
        "id": "act-1",
        "number": None,
        "status": "checks_passed",
        "fee": {"amount_tiyn": 393_200, "invoice_id": "inv-9", "paid_at": None},
        "awaiting": ["the fee is not paid", "the seller 780430400520 has not signed"],
    }
    ex.answers["POST notary/acts"] = lambda _: CallOutcome(True, 201, dict(act))
    ex.answers["GET payments/invoices/inv-9"] = lambda _: CallOutcome(
        True, 200, {"id": "inv-9", "status": "issued", "reference": "act-1"}
    )
    ex.answers["GET notary/acts/act-1"] = lambda _: CallOutcome(True, 200, dict(act))
    ex.answers["POST registry/certificates"] = certificate("property_ownership", FATHER)
    payload = {
        "cadastral_number": cad,
        "notary_iin": "851123300454",
        "buyers": [{"iin": FATHER, "share": {"num": 1, "den": 1}}],
        "price_tiyn": 3_500_000_000,
    }
    view = await submit_application(sw.runtime, FATHER, "cx-buy-home", payload)

    async def at(step: str, status: str) -> dict[str, Any]:
        found: dict[str, Any] = {}

        async def reached() -> bool:
            app = await sw.app_json(view.id, FATHER)
            found.update({s["name"]: s for s in app["steps"]}[step])
            return bool(found["status"] == status)

        await eventually(reached, within=15, what=f"{step} {status}")
        return found

    fee = await at("notary_fee", "waiting")
    act_call = next(c for c in ex.calls if c["key"] == "POST notary/acts")
    # the buyer never reads the seller's property record: the notary takes the owners itself
    assert "sellers" not in act_call["body"] and act_call["body"]["kind"] == "property_sale"
    assert act_call["user"] == FATHER
    assert not any(c["key"].startswith("GET registry/properties") for c in ex.calls)
    # the notary's own invoice, read — never a second one
    assert fee["request"]["path"] == "/invoices/inv-9"
    assert not any(c["key"].startswith("POST payments") for c in ex.calls)
    act.update(status="fee_paid", awaiting=["the seller 780430400520 has not signed"])
    await sw.deliver(
        InvoicePaid(
            invoice_id="inv-9",
            payer=FATHER,
            amount_tiyn=393_200,
            beneficiary_agency="notary",
            reference="act-1",
            paid_at=datetime.now(UTC),
        ),
        subject="inv-9",
        correlation="payment-callback-9",
    )
    await at("signatures", "waiting")
    # the parties and the notary sign in their own requests: the act registers itself
    act.update(status="registered", number=number, awaiting=[])
    await sw.deliver(
        ActRegistered(
            act_number=number,
            act_id="act-1",
            kind="property_sale",
            notary_iin="851123300454",
            registered_at=datetime.now(UTC),
            parties=["780430400520", FATHER],
            cadastral_number=cad,
        ),
        subject=number,
        correlation="signature-request-3",
    )
    registration = await at("registration", "done")
    assert registration["result"]["number"] == number and registration["event"] is None
    await at("ownership_transferred", "waiting")
    await sw.deliver(
        PropertyTransferred(
            cadastral_number=cad,
            act_number=number,
            sellers=[seller],
            buyers=[{"id": FATHER, "share": {"num": 1, "den": 1}}],
            owners_after=[{"id": FATHER, "share": {"num": 1, "den": 1}}],
        ),
        subject=cad,
        correlation="notary-event-7",
    )
    done = await sw.until_status(view.id, "completed", iin=FATHER)
    steps = {s["name"]: s for s in done["steps"]}
    assert steps["signatures"]["event"]["act_number"] == number
    assert steps["ownership_transferred"]["event"]["owners_after"] == [
        {"id": FATHER, "share": {"num": 1, "den": 1}}
    ]
    cert = next(c for c in ex.calls if c["key"] == "POST registry/certificates")
    assert cert["body"] == {
        "kind": "property_ownership",
        "subject": FATHER,
        "cadastral_number": cad,
    }
    assert done["result"]["kind"] == "property_ownership"
    assert list(steps) == [
        "applicant_record",
        "sale_contract",
        "notary_fee",
        "signatures",
        "registration",
        "ownership_transferred",
        "ownership_certificate",
    ]


async def test_buy_a_home_refused_by_the_notarys_checks_says_why(sw: Harness) -> None:
    """The act is drafted but blocked by its checks (the flat is under arrest): the step fails
    with the notary's reason, nothing is paid or waited for."""
    ex = sw.exchange
    cad = "20:321:045:13"
    reason = "property 20:321:045:13 is under arrest imposed by Бостандық аудандық соты"
    ex.answers["GET identity/persons/"] = person(FATHER)
    ex.answers[f"GET registry/properties/{cad}"] = lambda _: CallOutcome(
        True, 200, {"cadastral_number": cad, "owners": [{"id": MOTHER, "share": "1"}]}
    )
    ex.answers["POST notary/acts"] = lambda _: CallOutcome(
        True,
        201,
        {"id": "act-2", "status": "blocked", "status_reason": reason, "fee": None},
    )
    payload = {
        "cadastral_number": cad,
        "notary_iin": "851123300454",
        "buyers": [{"iin": FATHER, "share": {"num": 1, "den": 1}}],
        "price_tiyn": 1_000,
    }
    view = await submit_application(sw.runtime, FATHER, "cx-buy-home", payload)
    failed = await sw.until_status(view.id, "failed", iin=FATHER)
    assert failed["failure_reason"] == f"sale_contract: notary: {reason}"
    steps = {s["name"]: s for s in failed["steps"]}
    assert steps["sale_contract"]["status"] == "failed"
    assert steps["sale_contract"]["result"]["status"] == "blocked"
    assert steps["notary_fee"]["status"] == "pending"
    assert not any(c["key"].startswith("GET payments") for c in ex.calls)
