"""Unit tests of the register's domain: template matching, resolve, rules, outages, seed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import meshkit.contracts  # noqa: F401  (registers the event types steps refer to)
from egov_gateway.register.domain.catalogue import RegisterSnapshot, StoredDocument
from egov_gateway.register.domain.model import (
    CompositeStep,
    OperationKey,
    SlaTerm,
)
from egov_gateway.register.domain.outages import OutageInterval, ProbeState, clipped_seconds
from egov_gateway.register.domain.rules import validate_service
from egov_gateway.register.domain.templates import TemplateIndex
from egov_gateway.register.seed import (
    AGENCIES,
    composite_services,
    default_agency_urls,
    seed_grants,
    seed_members,
    seed_services,
)
from meshkit.errors import RuleViolation
from meshkit.events import registry as event_registry
from meshkit.ids import is_valid_bin

EVENT_TYPES = [t.event_type for t in event_registry.types()]


def seeded(documents: dict[str, StoredDocument] | None = None) -> RegisterSnapshot:
    return RegisterSnapshot(
        seed_members(default_agency_urls()), documents or {}, seed_services(), seed_grants()
    )


# -- templates ---------------------------------------------------------------------------------
def test_literal_segment_beats_parameter_and_params_are_extracted() -> None:
    idx: TemplateIndex[str] = TemplateIndex(
        [
            ("GET", "/acts/{id_or_number}", "generic"),
            ("GET", "/acts/{id}/content", "content"),
            ("GET", "/acts/latest", "literal"),
            ("POST", "/acts/{id}/revoke", "revoke"),
        ]
    )
    assert idx.match("GET", "/acts/latest")[:2] == ("/acts/latest", "literal")  # type: ignore[index]
    hit = idx.match("GET", "/acts/NA-2026-0001")
    assert hit == ("/acts/{id_or_number}", "generic", {"id_or_number": "NA-2026-0001"})
    assert idx.match("get", "/acts/42/content/") == ("/acts/{id}/content", "content", {"id": "42"})
    # the literal branch lacks POST .../revoke: matching backtracks to the parameter branch
    assert idx.match("POST", "/acts/latest/revoke") == (
        "/acts/{id}/revoke",
        "revoke",
        {"id": "latest"},
    )
    assert idx.match("DELETE", "/acts/1") is None
    assert idx.match("GET", "/acts") is None
    assert idx.match("GET", "/acts//content") is None
    assert idx.match("GET", "/acts/a%20b")[2] == {"id_or_number": "a b"}  # type: ignore[index]


def test_resolve_fills_params_subject_and_member() -> None:
    snap = seeded()
    r = snap.resolve("identity", "GET", "/persons/900101300123", {})
    assert r is not None
    assert (r.operation_id, r.path_template, r.path_params) == (
        "identity:GET /persons/{iin}",
        "/persons/{iin}",
        {"iin": "900101300123"},
    )
    assert (r.subject_param, r.subject_value, r.member_status) == ("iin", "900101300123", "active")
    assert r.citizen_facing and not r.public and r.service_code is not None
    assert r.base_url == "http://127.0.0.1:8001" and is_valid_bin(r.member_code)
    # the subject may come from the query
    q = snap.resolve("registry", "GET", "/properties", {"owner": "851212400222"})
    assert q is not None and (q.subject_param, q.subject_value) == ("owner", "851212400222")
    # the public verification endpoint needs no authentication
    pub = snap.resolve("registry", "GET", "/public/certificates/RC-1", {})
    assert pub is not None and pub.public and pub.service_code == "rg-certificate-verify"
    # an inter-agency operation is not citizen-facing
    birth_person = snap.resolve("identity", "POST", "/persons", {})
    assert birth_person is not None and not birth_person.citizen_facing
    assert snap.resolve("identity", "GET", "/no/such/path", {}) is None
    assert snap.resolve("nobody", "GET", "/persons/1", {}) is None
    assert snap.resolve("gateway", "GET", "/anything", {}) is None


def test_document_operations_join_the_declared_ones() -> None:
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/persons/{iin}": {"get": {"summary": "Read a person"}},
            "/persons/{iin}/documents": {"get": {"summary": "Identity documents"}},
            "/health/ready": {"get": {}},
        },
    }
    now = datetime.now(UTC)
    snap = seeded({"identity": StoredDocument("identity", doc, "x", now)})
    r = snap.resolve("identity", "GET", "/persons/900101300123/documents", {})
    assert r is not None and r.path_template == "/persons/{iin}/documents"
    assert snap.resolve("identity", "GET", "/health/ready", {}) is None  # infrastructure
    info = snap.operation(OperationKey.of("identity", "GET /persons/{iin}"))
    assert info is not None and info.published and info.declared and info.summary == "Read a person"
    assert "identity:POST /persons" in snap.unmapped_operations("identity")
    assert snap.unregistered_operations("identity") == ["identity:GET /persons/{iin}/documents"]


def test_a_published_template_with_other_parameter_names_is_the_declared_operation() -> None:
    """payments publishes ``/invoices/{invoice_id}/payments``; the register (services, grants)
    names it ``/invoices/{id}/payments``: one operation, citizen-facing, granted as declared."""
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/invoices/{invoice_id}": {"get": {"summary": "An invoice"}},
            "/invoices/{invoice_id}/payments": {"post": {"summary": "Pay"}},
            "/invoices/{invoice_id}/cancel": {"post": {"summary": "Cancel"}},
        },
    }
    now = datetime.now(UTC)
    snap = seeded({"payments": StoredDocument("payments", doc, "x", now)})
    pay = snap.resolve("payments", "POST", "/invoices/inv_1/payments", {})
    assert pay is not None and pay.citizen_facing, pay
    assert (pay.operation_id, pay.path_params) == (
        "payments:POST /invoices/{id}/payments",
        {"id": "inv_1"},
    )
    cancel = snap.resolve("payments", "POST", "/invoices/inv_1/cancel", {})
    assert cancel is not None and snap.is_granted("licensing", cancel.operation_id)
    read = snap.resolve("payments", "GET", "/invoices/inv_1", {})
    # the buyer reads the notary's fee invoice in *Buy a home* (as a citizen, not the gateway)
    assert read is not None and read.citizen_facing
    assert not snap.is_granted("gateway", read.operation_id)
    assert snap.runs("cx-buy-home", read.operation_id)
    assert read.operation_id == "payments:GET /invoices/{id}"
    info = snap.operation(OperationKey.of("payments", "GET /invoices/{id}"))
    assert info is not None and info.published and info.summary == "An invoice"
    assert snap.unregistered_operations("payments") == []
    assert "payments:POST /invoices/{id}/payments" not in snap.unmapped_operations("payments")


def test_grants_and_suspension() -> None:
    snap = seeded()
    assert snap.is_granted("registry", "identity:POST /persons")
    assert snap.is_granted("licensing", "registry:GET /legal-entities/{bin}")
    assert snap.is_granted("notary", "identity:POST /ca/verify")
    # the gateway's client holds only what the platform itself needs (each with a reason);
    # the steps of citizens' applications run on the citizen's mandate, not on grants
    assert [op for client, op in seed_grants() if client == "gateway"] == [
        "identity:POST /notifications/sms"
    ]
    assert not snap.is_granted("gateway", "registry:POST /births")
    assert not snap.is_granted("gateway", "payments:POST /payouts")
    assert not snap.is_granted("payments", "registry:POST /births")
    assert not snap.is_granted("licensing", "identity:POST /persons")
    members = seed_members(default_agency_urls())
    for m in members:
        if m.code == "registry":
            m.suspend()
    suspended = RegisterSnapshot(members, {}, seed_services(), seed_grants())
    assert not suspended.is_granted("registry", "identity:POST /persons")
    r = suspended.resolve("registry", "POST", "/births", {})
    assert r is not None and r.member_status == "suspended"


def test_xroad_identifiers() -> None:
    snap = seeded()
    for m in snap.members.values():
        assert is_valid_bin(m.member_code)
        assert snap.agency_for_xroad("KZ", "GOV", m.member_code, m.code) == m.code
    registry = snap.members["registry"]
    assert snap.agency_for_xroad("KZ", "GOV", registry.member_code, "identity") is None
    assert snap.agency_for_xroad("EE", "GOV", registry.member_code, "registry") is None


# -- the seed --------------------------------------------------------------------------------
def test_seed_is_large_valid_and_maps_to_contract_operations() -> None:
    snap = seeded()
    services = seed_services()
    assert len(services) >= 40
    assert {s.agency for s in services} >= set(AGENCIES)
    assert len({s.code for s in services}) == len(services)
    kazakh = set("ӘәҒғҚқҢңӨөҰұҮүҺһІі")
    for s in services:
        validate_service(s, snap, EVENT_TYPES)  # raises when an operation is not in the contract
        assert kazakh & set(s.name.kk + s.description.kk), s.code
    composites = {s.code for s in services if s.kind == "composite"}
    assert {"cx-birth-of-child", "cx-open-business", "cx-buy-home"} <= composites
    license_services = [
        s for s in services if s.code.startswith("lc-license-") and s.recipients == ["legal_entity"]
    ]
    assert len(license_services) >= 8
    for client, op in seed_grants():
        assert snap.knows(OperationKey.parse(op)), (client, op)


def test_composite_steps_are_validated() -> None:
    snap = seeded()
    good = next(s for s in composite_services() if s.code == "cx-open-business")
    validate_service(good, snap, EVENT_TYPES)
    bad_steps = [
        CompositeStep(
            "pay",
            OperationKey.of("payments", "POST /invoices/{id}/payments"),
            {"path": {"id": "$.steps.later.result.id"}},
            completes_on="kz.egov.payments.invoice.settled.v9",
        ),
        CompositeStep(
            "later",
            OperationKey.of("registry", "POST /no-such-thing"),
            compensation=OperationKey.of("payments", "POST /invoices/{id}/cancel"),
            compensation_input={"path": {}},
        ),
        CompositeStep("later", OperationKey.of("registry", "GET /births/{act_number}")),
    ]
    from dataclasses import replace

    bad = replace(good, steps=bad_steps, operations=[s.operation for s in bad_steps])
    with pytest.raises(RuleViolation) as err:
        validate_service(bad, snap, EVENT_TYPES)
    errors = err.value.errors
    assert "does not run before" in errors["steps.0.input"]
    assert "not a known event type" in errors["steps.0.completes_on"]
    assert "not a known operation" in errors["steps.1.operation"]
    assert "parameters ['id']" in errors["steps.1.compensation_input"]
    assert "named twice" in errors["steps.2.name"]
    assert "parameters ['act_number']" in errors["steps.2.input"]


def test_optional_and_read_then_wait_steps_are_validated() -> None:
    """``when`` and ``wait_for`` name only what is known before the step runs;
    ``completes_when`` maps answer fields to values and needs an event to wait for."""
    snap = seeded()
    good = next(s for s in composite_services() if s.code == "cx-buy-home")
    validate_service(good, snap, EVENT_TYPES)
    read = OperationKey.of("payments", "GET /invoices/{id}")
    bad_steps = [
        CompositeStep(
            "fee",
            read,
            {"path": {"id": "$.payload.invoice"}},
            when="$.steps.fee.result.id",
            completes_on="kz.egov.payments.invoice.paid.v1",
            wait_for=["$.payload.invoice", "$.nowhere"],
            completes_when={"status": []},
            fails_when={"status": "blocked"},  # not a list
        ),
        CompositeStep(
            "again",
            read,
            {"path": {"id": "$.payload.invoice"}},
            when="$.payload.optional",
            completes_when={"status": ["paid"]},
        ),
    ]
    from dataclasses import replace

    bad = replace(good, steps=bad_steps, operations=[s.operation for s in bad_steps])
    with pytest.raises(RuleViolation) as err:
        validate_service(bad, snap, EVENT_TYPES)
    errors = err.value.errors
    assert "does not run before" in errors["steps.0.when"]
    assert "steps.0.wait_for.0" not in errors and "$.nowhere" in errors["steps.0.wait_for.1"]
    assert "non-empty list" in errors["steps.0.completes_when"]
    assert "non-empty list" in errors["steps.0.fails_when"]
    assert "need an event" in errors["steps.1.completes_on"]
    assert "steps.1.when" not in errors


def test_a_public_service_may_only_run_public_operations() -> None:
    snap = seeded()
    svc = next(s for s in seed_services() if s.code == "rg-certificate-verify")
    from dataclasses import replace

    leaky = replace(
        svc, operations=[*svc.operations, OperationKey.of("registry", "GET /certificates/{number}")]
    )
    with pytest.raises(RuleViolation) as err:
        validate_service(leaky, snap, EVENT_TYPES)
    assert "needs authentication" in err.value.errors["operations.2"]


# -- outages -----------------------------------------------------------------------------------
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_probe_state_opens_after_threshold_dated_from_first_failure() -> None:
    st = ProbeState("registry")
    assert st.observe(True, T0, 2) is None
    assert st.observe(False, T0 + timedelta(seconds=10), 2) is None
    assert st.observe(False, T0 + timedelta(seconds=20), 2) == (
        "opened",
        T0 + timedelta(seconds=10),
    )
    assert st.observe(False, T0 + timedelta(seconds=30), 2) is None
    assert st.observe(True, T0 + timedelta(seconds=40), 2) == ("closed", T0 + timedelta(seconds=40))
    # a single blip below the threshold opens nothing
    assert st.observe(False, T0 + timedelta(seconds=50), 2) is None
    assert st.observe(True, T0 + timedelta(seconds=60), 2) is None


def test_clipped_union_of_intervals() -> None:
    h = timedelta(hours=1)
    ivs = [
        OutageInterval(T0, T0 + 2 * h),
        OutageInterval(T0 + h, T0 + 3 * h),  # overlaps the first: counted once
        OutageInterval(T0 + 5 * h, None),  # still open: lasts until now
    ]
    now = T0 + 6 * h
    assert clipped_seconds(ivs, T0, T0 + 10 * h, now) == (3 + 1) * 3600
    assert (
        clipped_seconds(ivs, T0 + 2 * h, T0 + 5 * h + 1800 * timedelta(seconds=1), now)
        == 3600 + 1800
    )
    assert clipped_seconds(ivs, T0 - 5 * h, T0, now) == 0


def test_sla_term_in_working_days_skips_weekends() -> None:
    friday = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)
    assert SlaTerm(1, "working_days").due_at(friday) == friday + timedelta(days=3)
    assert SlaTerm(15, "minutes").due_at(friday) == friday + timedelta(minutes=15)
    assert SlaTerm(5, "working_days").due_at(friday).weekday() == 4


def test_agencies_that_certify_their_signing_key_are_granted_the_ca() -> None:
    """registry and licensing sign documents with a key the national CA certifies through the
    gateway at startup (meshkit.trust.DocumentKeys.obtain_from_ca): without the grant they
    retried a 403 forever and never signed."""
    root = Path(__file__).resolve().parents[2]
    certifying = set()
    # the composition root (bootstrap.py) or, for a service not yet moved to one, app.py
    for module in [*root.glob("svc-*/egov_*/bootstrap.py"), *root.glob("svc-*/egov_*/app.py")]:
        if "obtain_from_ca" in module.read_text():
            certifying.add(module.parent.name.removeprefix("egov_"))
    assert certifying >= {"registry", "licensing"}
    granted = {client for client, op in seed_grants() if op == "identity:POST /ca/certificates"}
    assert certifying <= granted, certifying - granted


def test_a_mandate_covers_the_operations_of_its_service_only() -> None:
    snap = seeded()
    birth = snap.resolve("registry", "POST", "/births", {})
    assert birth is not None and birth.citizen_facing
    # a composite runs its steps and compensations, and every application the applicant's
    # own record (once-only)
    assert snap.runs("cx-birth-of-child", "registry:POST /births")
    assert snap.runs("cx-birth-of-child", "payments:POST /allowances")
    assert snap.runs("cx-birth-of-child", "identity:GET /persons/{iin}")
    assert snap.runs("cx-open-business", "registry:POST /legal-entities/{bin}/status")
    assert not snap.runs("cx-birth-of-child", "registry:GET /properties/{cadastral_number}")
    assert not snap.runs("id-personal-data", "registry:POST /deaths")
    assert not snap.runs("no-such-service", "registry:POST /births")
    # the agency-only payout is no longer reachable by any citizen-facing service
    payout = snap.resolve("payments", "POST", "/payouts", {})
    assert payout is not None and not payout.citizen_facing
