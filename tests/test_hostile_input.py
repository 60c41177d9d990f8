"""Hostile input against every operation every service publishes (discovered from OpenAPI).

Table-driven: each family of hostile requests (oversized and deeply nested bodies, wrong
content types, invalid UTF-8, injection strings in every string field, IIN/BIN edge cases,
forged/expired/replayed gateway assertions, path traversal) runs against every operation it
applies to. The service must never answer 5xx, must answer errors as RFC 9457 problems and
successes as JSON that parses, and must store nothing when it refuses a write (its outbox
gains no row). The injection family also runs on PostgreSQL, where NUL bytes and
over-long strings reach a stricter database.

The last tests run the same checks against a deliberately careless synthetic operation to
show the checks can fail (they are not the services').
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Form
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.auth.roles import CENTRE_OPERATOR
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES
from meshkit_testing.apps import FakeGateway
from meshkit_testing.contract import (
    AGENCIES,
    Operation,
    all_operations,
    describe,
    gateway_routes_exchange,
    operations,
    problem_violations,
)
from meshkit_testing.gateway import ISSUER, TestIdentity
from meshkit_testing.hostile import (
    ASSERTION_ATTACKS,
    Caller,
    Findings,
    check_assertion_attack,
    check_deep_nesting,
    check_identical_replay,
    check_identifiers,
    check_injection,
    check_invalid_utf8,
    check_oversized_body,
    check_traversal,
    check_wrong_content_type,
    identifier_targets,
    injection_targets,
    is_routed,
    routed_exchange_traversals,
)
from meshkit_testing.live import LiveApp
from meshkit_testing.processes import ProcessMesh, process_mesh
from meshkit_testing.services import SERVICES, build_app

OPERATIONS = all_operations()


def params(select: Callable[[Operation], bool], none_yet: str = "") -> list[Any]:
    chosen = [op for op in OPERATIONS if select(op)]
    if not chosen and none_yet:
        return [pytest.param(None, id="none-yet", marks=pytest.mark.skip(reason=none_yet))]
    return [pytest.param(op, id=op.label) for op in chosen]


BODY_OPS = params(lambda op: bool(op.body_media_types))
JSON_BODY_OPS = params(lambda op: op.takes_json)
INJECTABLE_OPS = params(lambda op: bool(injection_targets(op)))
IDENTIFIER_OPS = params(
    lambda op: bool(identifier_targets(op)),
    none_yet="no operation takes an IIN/BIN parameter or field yet (they land with the domain "
    "issues); the check itself is exercised on a synthetic operation below",
)
AGENCY_OPS = params(lambda op: op.service in AGENCIES)


ADMIN_TOKEN = "hostile-suite-admin-token-not-a-secret"
#: services with an operators' admin API: hostile input reaches it as an operator
ADMIN_SERVICES = ("gateway", "identity")


class Services:
    """Each service started once per module on first use (SQLite, or one PG database each)."""

    def __init__(self, root: Path, database_url: Callable[[str], str] | None = None) -> None:
        self.root = root
        self.fake = FakeGateway(root)
        self.identity = TestIdentity(root)
        self.database_url = database_url
        self._live: dict[str, LiveApp] = {}

    def caller(self, service: str) -> Caller:
        if service not in self._live:
            data_dir = self.root / service
            data_dir.mkdir()
            extra: dict[str, Any] = {}
            if self.database_url is not None:
                extra["database_url"] = self.database_url(service)
            if service in ADMIN_SERVICES:
                extra["admin_token"] = ADMIN_TOKEN
            if service == "gateway":  # operators' tokens from a test issuer the gateway trusts
                extra["identity_jwks_url"] = self.identity.jwks_url
                extra["identity_issuer"] = ISSUER
            app = build_app(
                service, data_dir, kafka_enabled=False, gateway_jwks_url=self.fake.jwks_url, **extra
            )
            self._live[service] = LiveApp(app, name=service).start()
        admin = ADMIN_TOKEN if service in ADMIN_SERVICES else None
        identity = self.identity
        # a centre application is sent by a public service centre operator (401 otherwise)
        centre = {
            "/api/v1/centre": lambda: identity.token("operator", OPERATOR, roles=[CENTRE_OPERATOR])
        }
        bearers = centre if service == "gateway" else {}
        return Caller(service, self._live[service], self.fake, admin_token=admin, bearers=bearers)

    def close(self) -> None:
        for live in self._live.values():
            live.stop()


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    services = Services(tmp_path_factory.mktemp("hostile"))
    yield services
    services.close()


@pytest.fixture(scope="module")
def pg_mesh(tmp_path_factory: pytest.TempPathFactory, postgres: Any) -> Iterator[Services]:
    created: list[str] = []

    def database_url(service: str) -> str:
        name = f"hostile_{service}_{uuid.uuid4().hex[:8]}"
        created.append(name)
        return str(postgres.create_database(name))

    services = Services(tmp_path_factory.mktemp("hostile-pg"), database_url)
    yield services
    services.close()
    if not postgres.supports_fault_injection:
        for name in created:
            postgres.drop_database(name)


def no_findings(findings: Findings) -> None:
    assert not findings, "\n".join(findings[:30])


def test_operations_are_discovered_for_every_service() -> None:
    for service in SERVICES:
        assert operations(service), service
    assert BODY_OPS, "no operation with a request body at all: the body checks test nothing"


# --- bodies ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", BODY_OPS)
def test_oversized_body_is_refused(mesh: Services, op: Operation) -> None:
    no_findings(check_oversized_body(mesh.caller(op.service), op))


@pytest.mark.parametrize("op", BODY_OPS)
def test_deeply_nested_json_is_refused(mesh: Services, op: Operation) -> None:
    no_findings(check_deep_nesting(mesh.caller(op.service), op))


@pytest.mark.parametrize("op", BODY_OPS)
def test_wrong_content_type_is_refused(mesh: Services, op: Operation) -> None:
    no_findings(check_wrong_content_type(mesh.caller(op.service), op))


@pytest.mark.parametrize("op", JSON_BODY_OPS)
def test_invalid_utf8_is_refused(mesh: Services, op: Operation) -> None:
    no_findings(check_invalid_utf8(mesh.caller(op.service), op))


# --- fields ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", INJECTABLE_OPS)
def test_injection_strings_in_every_string_field(mesh: Services, op: Operation) -> None:
    no_findings(check_injection(mesh.caller(op.service), op))


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.parametrize("op", INJECTABLE_OPS)
def test_injection_strings_on_postgres(pg_mesh: Services, op: Operation) -> None:
    no_findings(check_injection(pg_mesh.caller(op.service), op))


@pytest.mark.parametrize("op", IDENTIFIER_OPS)
def test_iin_bin_edge_cases_are_422_with_the_reason(mesh: Services, op: Operation) -> None:
    no_findings(check_identifiers(mesh.caller(op.service), op))


# --- the gateway assertion --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def routed_ops(mesh: Services) -> list[Operation]:
    """Agency operations that demand the gateway's assertion (found by asking without one)."""
    return [
        op for op in OPERATIONS if op.service in AGENCIES and is_routed(mesh.caller(op.service), op)
    ]


def test_every_agency_has_routed_operations(routed_ops: list[Operation]) -> None:
    assert {op.service for op in routed_ops} == set(AGENCIES)


@pytest.mark.parametrize("attack", sorted(ASSERTION_ATTACKS))
def test_bad_assertions_are_401_problems(
    mesh: Services, routed_ops: list[Operation], attack: str
) -> None:
    findings: Findings = []
    for op in routed_ops:
        findings += check_assertion_attack(mesh.caller(op.service), op, attack)
    no_findings(findings)


def test_an_identical_replay_is_refused(mesh: Services, routed_ops: list[Operation]) -> None:
    findings: Findings = []
    for op in routed_ops:
        findings += check_identical_replay(mesh.caller(op.service), op)
    no_findings(findings)


# --- path traversal ----------------------------------------------------------------------------------
@pytest.mark.parametrize("op", params(lambda op: True))
def test_path_traversal_reaches_nothing(mesh: Services, op: Operation) -> None:
    caller = mesh.caller(op.service)
    no_findings(check_traversal(caller, op, sign=False) + check_traversal(caller, op, sign=True))


@pytest.mark.skipif(
    not gateway_routes_exchange(),
    reason="the gateway publishes no /x/{agency}/{path} route yet (lands with the gateway "
    "issue); this test switches on by itself",
)
@pytest.mark.parametrize("agency", AGENCIES)
def test_routed_exchange_cannot_be_climbed_out_of(mesh: Services, agency: str) -> None:
    caller = mesh.caller("gateway")
    findings: Findings = []
    for raw in routed_exchange_traversals(agency):
        r = caller.live.send_raw_path("GET", raw)
        if not 400 <= r.status_code < 500:
            findings.append(f"gateway {raw!r}: expected 4xx, got HTTP {r.status_code}")
    no_findings(findings)


# --- the checks can fail: a careless operation (synthetic, not a service) --------------------------
class Person(BaseModel):
    iin: IIN
    name: str
    note: str = ""


class LooseFiling(BaseModel):
    holder_iin: str  # a plain string: accepts any IIN
    comment: str


def careless_app(tmp_path: Path, fake: FakeGateway) -> FastAPI:
    router = APIRouter(responses=PROBLEM_RESPONSES)
    stored: list[Any] = []

    @router.post("/selftest/people", status_code=201)
    async def add(body: Person, call: Annotated[RoutedCall, Depends(routed_call)]) -> Any:
        if "'" in body.name:  # a handler that breaks on a quote (string-built SQL, say)
            # answered here rather than raised: a raised error's console traceback is slow
            return JSONResponse({"title": "Internal error", "status": 500}, status_code=500)
        return body

    @router.post("/selftest/filings", status_code=201)
    async def file(body: LooseFiling) -> JSONResponse:
        stored.append(body)
        return JSONResponse({"ok": True}, status_code=201)

    @router.post("/selftest/token")
    async def token(grant_type: Annotated[str, Form()]) -> dict[str, str]:
        return {"grant_type": grant_type}

    @router.get("/selftest/people/{iin}")
    async def get(iin: IIN, call: Annotated[RoutedCall, Depends(routed_call)]) -> dict[str, str]:
        return {"iin": iin}

    app = build_app("registry", tmp_path, kafka_enabled=False, gateway_jwks_url=fake.jwks_url)
    app.include_router(router)
    return app


@pytest.fixture(scope="module")
def careless(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Caller, dict[str, Operation]]]:
    import meshkit_testing.contract as contract

    root = tmp_path_factory.mktemp("careless")
    fake = FakeGateway(root)
    app = careless_app(root, fake)
    spec = app.openapi()
    contract.service_openapi.cache_clear()
    original = contract.service_openapi

    # the contract helpers read the document by service name: point "selftest" at this app
    def patched(service: str) -> dict[str, Any]:
        return spec if service == "selftest" else original(service)

    contract.service_openapi = patched  # type: ignore[assignment]
    try:
        ops = {f"{op.method} {op.path}": op for op in contract.operations("selftest")}
        with LiveApp(app, name="careless") as live:
            yield Caller("registry", live, fake), ops
    finally:
        contract.service_openapi = original


def test_the_checks_find_a_careless_operation(
    careless: tuple[Caller, dict[str, Operation]],
) -> None:
    caller, ops = careless
    people, filings = ops["POST /selftest/people"], ops["POST /selftest/filings"]
    by_path = ops["GET /selftest/people/{iin}"]
    injection = check_injection(caller, people)
    assert any("server error" in f and "sql" in f for f in injection), injection
    # a plain-string IIN field accepts bad IINs: no 422, no reason
    loose = check_identifiers(caller, filings)
    assert any("holder_iin" in f and "expected HTTP [422]" in f for f in loose), loose
    # the IIN type does it right, in a body and in a path
    assert check_identifiers(caller, people) == []
    assert check_identifiers(caller, by_path) == []
    assert check_assertion_attack(caller, by_path, "forged-key") == []


def test_the_limits_leave_legitimate_requests_alone(
    careless: tuple[Caller, dict[str, Operation]],
) -> None:
    """A form endpoint takes its form (no 415); an escaped backslash before u0000 is text."""
    caller, _ = careless
    r = caller.request(
        "POST",
        "/selftest/token",
        content=b"grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200 and r.json() == {"grant_type": "client_credentials"}, r.text
    r = caller.request(
        "POST",
        "/selftest/filings",
        content=b'{"holder_iin": "900115300122", "comment": "a\\\\u0000 is not NUL"}',
        content_type="application/json",
    )
    assert r.status_code == 201, r.text
    r = caller.request(
        "POST",
        "/selftest/filings",
        content=b'{"holder_iin": "900115300122", "comment": "a\\u0000"}',
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["errors"] == {
        "body": "contains a NUL character (U+0000), which no field accepts"
    }, r.text


# =================================================================================================
# Issue 16, probed as an attacker would: the whole mesh as processes (PostgreSQL, Kafka), one
# probe per finding of the issue. Each probe records what it sent and what it found; the report
# is printed at the end of the module (to the terminal, with or without -s) and written as
# JSON under the pytest temporary directory.
# =================================================================================================
ROOT = Path(__file__).resolve().parents[1]
MOTHER, MOTHER_PHONE = "920308400210", "+77021234568"
FATHER, FATHER_PHONE = "900115300122", "+77011234567"
OPERATOR = "880707300858"  # a registered citizen (a wrong password once: no lockout)


class ProbeReport:
    def __init__(self) -> None:
        self.probes: dict[str, dict[str, Any]] = {}

    def sent(self, probe: str, n: int = 1) -> None:
        self.probes.setdefault(probe, {"sent": 0, "findings": []})["sent"] += n

    def found(self, probe: str, finding: str) -> None:
        self.probes.setdefault(probe, {"sent": 0, "findings": []})["findings"].append(finding)

    def check(self, probe: str) -> None:
        findings = self.probes.get(probe, {}).get("findings", [])
        assert not findings, "\n".join(findings)

    def render(self) -> str:
        total = sum(p["sent"] for p in self.probes.values())
        lines = [f"issue-16 probes against a process mesh: {total} requests sent"]
        for name, p in self.probes.items():
            verdict = "held" if not p["findings"] else f"{len(p['findings'])} finding(s)"
            lines.append(f"  {name:<40} {p['sent']:>4} sent  {verdict}")
            lines += [f"      - {f}" for f in p["findings"][:5]]
        return "\n".join(lines)


@pytest.fixture(scope="module")
def probe_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProbeReport]:
    import json

    report = ProbeReport()
    yield report
    if not report.probes:
        return
    path = tmp_path_factory.getbasetemp() / "issue16-probes.json"
    path.write_text(json.dumps(report.probes, indent=2, ensure_ascii=False))
    # printed past the output capture, so it shows with or without -s
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    suspended = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
    with suspended:
        print("\n" + report.render() + f"\n  (report: {path})", flush=True)


@pytest.fixture(scope="module")
def probed_mesh(
    kafka: Any, postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProcessMesh]:
    # the gateway's defaults as deployed (breaker cooldown 10 s, rate limits on)
    run = uuid.uuid4().hex[:8]
    with process_mesh(
        tmp_path_factory.mktemp("probed-mesh"),
        kafka.bootstrap_servers,
        database_url=lambda name: postgres.create_database(f"probe_{run}_{name}"),
        cwd=ROOT,
    ) as m:
        yield m


@pytest.fixture(scope="module")
def citizen(probed_mesh: ProcessMesh) -> str:
    return probed_mesh.login(MOTHER, MOTHER_PHONE)


def _bearer(token: str, purpose: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if purpose:
        headers["X-Mesh-Purpose"] = purpose
    return headers


def _timed(client: httpx.Client, method: str, url: str, **kw: Any) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    r = client.request(method, url, **kw)
    return r, time.monotonic() - t0


def _expect(
    report: ProbeReport, probe: str, label: str, r: httpx.Response, allowed: set[int]
) -> None:
    report.sent(probe)
    if r.status_code not in allowed:
        report.found(probe, f"{label}: expected {sorted(allowed)}, got {describe(r)}")
    elif r.status_code >= 400 and problem_violations(r):
        report.found(probe, f"{label}: {problem_violations(r)}")


def _invoice(mesh: ProcessMesh, payer: str, amount: Any = 700_000) -> httpx.Response:
    token = mesh.agency_token("licensing")
    body = {
        "payer": payer,
        "amount_tiyn": amount,
        "purpose": "issue-16 probe",
        "kbk": "108114",
        "beneficiary_agency": "licensing",
        "due_date": (date.today() + timedelta(days=10)).isoformat(),
        "reference": f"probe-{uuid.uuid4().hex[:8]}",
    }
    return httpx.post(
        f"{mesh.url('gateway')}/x/payments/invoices",
        json=body,
        headers={**_bearer(token, "issue-16 probe: duty"), "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )


@pytest.mark.parametrize("me", ["applications", "notifications", "offers"])
@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_huge_offset_is_a_fast_422(
    probed_mesh: ProcessMesh, citizen: str, probe_report: ProbeReport, me: str
) -> None:
    probe = "huge offset on /me/*"
    gw = probed_mesh.url("gateway")
    with httpx.Client(base_url=gw, timeout=30) as c, ThreadPoolExecutor(1) as pool:
        for offset in ("99999999999999999999", str(2**63), "1000001"):
            other = pool.submit(
                _timed, httpx.Client(base_url=gw, timeout=30), "GET", "/api/v1/services"
            )
            r, took = _timed(
                c, "GET", f"/api/v1/me/{me}", params={"offset": offset}, headers=_bearer(citizen)
            )
            _expect(probe_report, probe, f"/me/{me}?offset={offset}", r, {422})
            if took > 1.0:
                probe_report.found(probe, f"/me/{me}?offset={offset} took {took:.2f} s")
            o, o_took = other.result()
            probe_report.sent(probe)
            if o.status_code != 200 or o_took > 2.0:
                probe_report.found(
                    probe, f"another client's /api/v1/services: {o.status_code} in {o_took:.2f} s"
                )
    probe_report.check(probe)


@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_extreme_invoice_amounts_are_422(
    probed_mesh: ProcessMesh, probe_report: ProbeReport
) -> None:
    probe = "huge/negative amount_tiyn"
    for amount in (2**63, 10**20, -(2**63), -1, 0, 10**15):
        r = _invoice(probed_mesh, FATHER, amount)
        _expect(probe_report, probe, f"POST /x/payments/invoices amount_tiyn={amount}", r, {422})
        if r.status_code == 422 and "amount_tiyn" not in r.text:
            probe_report.found(probe, f"amount_tiyn={amount}: the problem names no field")
    probe_report.check(probe)


@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_deep_nesting_is_a_4xx(
    probed_mesh: ProcessMesh, citizen: str, probe_report: ProbeReport
) -> None:
    probe = "deep nesting"
    gw = probed_mesh.url("gateway")
    deep = b"[" * 50_000 + b"]" * 50_000
    for_field = b'{"surname": ' + deep + b"}"
    cases = [
        (f"{gw}/x/registry/births", for_field, _bearer(citizen, "issue-16 probe")),
        (
            f"{gw}/api/v1/applications",
            b'{"service_code": "x", "payload": ' + deep + b"}",
            _bearer(citizen),
        ),
        (f"{probed_mesh.url('payments')}/acquirer/callbacks", deep, {}),
    ]
    for url, content, headers in cases:
        r = httpx.post(
            url,
            content=content,
            headers={**headers, "content-type": "application/json"},
            timeout=30,
        )
        _expect(probe_report, probe, f"POST {url} 50 000 deep", r, set(range(400, 500)))
    # the acquirer's callback, validly signed, so it reaches the parser
    secret = probed_mesh.dev_secret("acquirer-hmac")
    from egov_payments.adapters.signing import signed_headers

    headers = signed_headers(secret, deep, timestamp=int(time.time()), acquirer="sandbox")
    r = httpx.post(
        f"{probed_mesh.url('payments')}/acquirer/callbacks",
        content=deep,
        headers={**headers, "content-type": "application/json"},
        timeout=30,
    )
    _expect(probe_report, probe, "signed callback 50 000 deep", r, set(range(400, 500)))
    probe_report.check(probe)


@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_usd_callback_pays_nothing(
    probed_mesh: ProcessMesh, probe_report: ProbeReport
) -> None:
    import json

    from egov_payments.adapters.signing import signed_headers

    probe = "USD callback"
    payer_token = probed_mesh.login(FATHER, FATHER_PHONE)
    inv = _invoice(probed_mesh, FATHER)
    assert inv.status_code == 201, inv.text
    invoice_id = inv.json()["id"]
    gw = probed_mesh.url("gateway")
    r = httpx.post(
        f"{gw}/x/payments/invoices/{invoice_id}/payments", headers=_bearer(payer_token), timeout=30
    )
    assert r.status_code == 201, r.text
    body = json.dumps(
        {
            "event_id": f"evt_{uuid.uuid4().hex}",
            "type": "payment.captured",
            "payment_id": r.json()["payment_id"],
            "acquirer_payment_id": r.json().get("acquirer_payment_id"),
            "amount_tiyn": 700_000,
            "currency": "USD",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    secret = probed_mesh.dev_secret("acquirer-hmac")
    headers = signed_headers(secret, body, timestamp=int(time.time()), acquirer="sandbox")
    r = httpx.post(
        f"{probed_mesh.url('payments')}/acquirer/callbacks",
        content=body,
        headers={**headers, "content-type": "application/json"},
        timeout=30,
    )
    _expect(probe_report, probe, "signed USD capture of a KZT invoice", r, {422})
    status = httpx.get(
        f"{gw}/x/payments/invoices/{invoice_id}", headers=_bearer(payer_token), timeout=30
    )
    probe_report.sent(probe)
    if status.status_code != 200 or status.json()["status"] != "issued":
        probe_report.found(probe, f"the invoice after a USD callback: {describe(status)}")
    probe_report.check(probe)


@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_oversized_body_leaves_the_breaker_closed(
    probed_mesh: ProcessMesh, citizen: str, probe_report: ProbeReport
) -> None:
    probe = "oversized body, breaker"
    gw = probed_mesh.url("gateway")
    big = b'{"surname": "' + b"A" * 3_000_000 + b'"}'
    for i in range(5):
        r = httpx.post(
            f"{gw}/x/registry/births",
            content=big,
            headers={**_bearer(citizen, "issue-16 probe"), "content-type": "application/json"},
            timeout=60,
        )
        _expect(probe_report, probe, f"3 MB POST /x/registry/births #{i + 1}", r, {413})
    other = probed_mesh.login(FATHER, FATHER_PHONE)
    r = httpx.get(
        f"{gw}/x/registry/births",
        headers=_bearer(other, "issue-16 probe: another client"),
        timeout=30,
    )
    probe_report.sent(probe)
    if r.status_code == 503 or r.status_code >= 500:
        probe_report.found(probe, f"another client's call to registry: {describe(r)}")
    probe_report.check(probe)


@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_no_internal_address_in_redirects(
    probed_mesh: ProcessMesh, citizen: str, probe_report: ProbeReport
) -> None:
    probe = "trailing-slash redirect"
    gw = probed_mesh.url("gateway")
    # the agencies' own addresses (the gateway's is the one the caller used: not a leak)
    internal = [probed_mesh.url(n).split("://", 1)[1] for n in probed_mesh.ports if n != "gateway"]
    for path in (f"/x/identity/persons/{MOTHER}/", "/x/registry/births/", "/api/v1/services/"):
        r = httpx.get(
            gw + path,
            headers=_bearer(citizen, "issue-16 probe"),
            timeout=30,
            follow_redirects=False,
        )
        probe_report.sent(probe)
        location = r.headers.get("location", "")
        if any(addr in location for addr in internal):
            probe_report.found(probe, f"GET {path} → {r.status_code} Location: {location}")
        if r.status_code >= 500:
            probe_report.found(probe, f"GET {path}: {describe(r)}")
    probe_report.check(probe)


@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_logout_ends_the_access_token(
    probed_mesh: ProcessMesh, probe_report: ProbeReport
) -> None:
    probe = "logout, then the access token"
    gw = probed_mesh.url("gateway")
    token = probed_mesh.login(FATHER, FATHER_PHONE)
    r = httpx.get(f"{gw}/api/v1/me/applications", headers=_bearer(token), timeout=30)
    assert r.status_code == 200, r.text
    r = httpx.post(f"{probed_mesh.url('identity')}/auth/logout", headers=_bearer(token), timeout=30)
    assert r.status_code == 204, r.text
    deadline = time.monotonic() + 10
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        last = httpx.get(f"{gw}/api/v1/me/applications", headers=_bearer(token), timeout=30)
        probe_report.sent(probe)
        if last.status_code == 401:
            break
        time.sleep(0.25)  # polling for a deadline, not synchronisation
    if last is None or last.status_code != 401:
        probe_report.found(probe, f"10 s after logout the token still reads: {describe(last)}")
    probe_report.check(probe)


@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_account_enumeration(probed_mesh: ProcessMesh, probe_report: ProbeReport) -> None:
    from meshkit.ids import make_iin

    probe = "account enumeration"
    identity = probed_mesh.url("identity")
    unknown = next(
        i for s in range(700, 760) if (i := make_iin(date(1983, 3, 9), "male", s)) is not None
    )

    def answer(r: httpx.Response) -> tuple[int, Any]:
        try:
            doc = r.json()
        except ValueError:
            return r.status_code, r.text
        if isinstance(doc, dict):
            for volatile in ("instance", "challenge_id", "request_id"):
                doc.pop(volatile, None)
        return r.status_code, doc

    for what, url, known_body, unknown_body in (
        (
            "login",
            f"{identity}/auth/login",
            {"iin": OPERATOR, "password": "not-the-password-1"},
            {"iin": unknown, "password": "not-the-password-1"},
        ),
        (
            "password reset request",
            f"{identity}/auth/password/request",
            {"iin": OPERATOR},
            {"iin": unknown},
        ),
    ):
        known_r = httpx.post(url, json=known_body, timeout=30)
        unknown_r = httpx.post(url, json=unknown_body, timeout=30)
        probe_report.sent(probe, 2)
        if answer(known_r) != answer(unknown_r):
            probe_report.found(
                probe,
                f"{what}: a registered IIN → {describe(known_r)}; unknown → {describe(unknown_r)}",
            )
    probe_report.check(probe)


# (the rate-limit probes run last: they use up the source's allowance of failures)
@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_x_forwarded_for_rotation_is_rate_limited(
    probed_mesh: ProcessMesh, probe_report: ProbeReport
) -> None:
    probe = "XFF rotation vs rate limits"
    gw = probed_mesh.url("gateway")
    statuses: list[int] = []
    with httpx.Client(base_url=gw, timeout=30) as c:
        for i in range(80):
            r = c.get(
                f"/x/registry/no-such-operation-{i}",
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            )
            statuses.append(r.status_code)
    probe_report.sent(probe, len(statuses))
    if 429 not in statuses:
        probe_report.found(
            probe, f"80 requests, each another X-Forwarded-For: no 429 ({set(statuses)})"
        )
    probe_report.check(probe)


@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.slow
def test_probe_invalid_tokens_are_rate_limited(
    probed_mesh: ProcessMesh, probe_report: ProbeReport
) -> None:
    probe = "150 invalid tokens"
    gw = probed_mesh.url("gateway")
    statuses: list[int] = []
    with httpx.Client(base_url=gw, timeout=30) as c:
        for i in range(150):
            r = c.get("/api/v1/me/applications", headers={"Authorization": f"Bearer not.a.jwt{i}"})
            statuses.append(r.status_code)
    probe_report.sent(probe, len(statuses))
    if 429 not in statuses:
        probe_report.found(probe, f"150 invalid bearer tokens: no 429 ({set(statuses)})")
    elif any(s >= 500 for s in statuses):
        probe_report.found(probe, f"a server error among {set(statuses)}")
    probe_report.check(probe)
