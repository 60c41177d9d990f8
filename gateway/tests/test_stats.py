"""The efficiency figures on SQLite and PostgreSQL, computed from known records with exact
expected numbers: services rendered and share electronic, statuses, term violations, technical
failures, satisfaction, integrations (used vs granted), median and p90 time to result."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from egov_gateway.register.seed import seed_grants
from egov_gateway.singlewindow.stats.domain.model import ApplicationFact, figures, nearest_rank
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.gateway_offers import SingleWindowHarness, iin

PERIOD = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
APPLICANTS = [iin(500 + 10 * i, born=date(1985, 1, 1 + i)) for i in range(7)]


def at(day: int, hour: int = 9, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def seed_applications(sw: SingleWindowHarness) -> None:
    rows: list[dict[str, Any]] = [
        # rendered online, on time, 10 minutes, rated 5
        dict(service_code="pm-birth-allowance", agency="payments", origin="portal",
             status="completed", submitted_at=at(5, 10), due_at=at(13),
             completed_at=at(5, 10, 10), rating=5),
        # rendered from a proactive offer, 1 hour, rated 4
        dict(service_code="pm-birth-allowance", agency="payments", origin="proactive",
             status="completed", submitted_at=at(6), due_at=at(14),
             completed_at=at(6, 10), rating=4),
        # rendered at a service centre, 30 minutes against a 15-minute term: a violation
        dict(service_code="rg-birth-certificate", agency="registry",
             origin="agency_office", status="completed", submitted_at=at(7),
             due_at=at(7, 9, 15), completed_at=at(7, 9, 30), rating=2),
        # failed before its term: no violation, not rendered
        dict(service_code="cx-birth-of-child", agency="registry", origin="portal",
             status="failed", submitted_at=at(8), due_at=at(15)),
        # still waiting, marked overdue: a violation
        dict(service_code="cx-birth-of-child", agency="registry", origin="portal",
             status="waiting", submitted_at=at(9), due_at=at(10), overdue_at=at(10)),
        # in progress with time left
        dict(service_code="pm-birth-allowance", agency="payments", origin="portal",
             status="in_progress", submitted_at=at(30), due_at=at(30, month=12)),
        # outside the period
        dict(service_code="pm-birth-allowance", agency="payments", origin="portal",
             status="completed", submitted_at=at(30, month=9), due_at=at(5),
             completed_at=at(30, 10, month=9), rating=1),
    ]  # fmt: skip
    for n, (row, who) in enumerate(zip(rows, APPLICANTS, strict=True)):
        await sw.add_application(
            id=f"00000000-0000-0000-0000-00000000000{n}", applicant_iin=who, **row
        )


async def seed_outages(sw: SingleWindowHarness) -> None:
    agency_rows = [
        ("payments", at(10, 10), at(10, 10, 30)),
        ("payments", at(10, 10, 20), at(10, 10, 40)),  # overlaps: counted once
        ("payments", datetime(2026, 9, 30, 23, 50, tzinfo=UTC), at(1, 0, 10)),  # clipped
        ("registry", at(20, 12), at(20, 13)),
        ("registry", at(5, 12, month=11), None),  # after the period
    ]
    for agency, start, end in agency_rows:
        await sw.sql(
            "INSERT INTO register_agency_outages (agency, started_at, ended_at, reason) "
            "VALUES (:a, :s, :e, 'not ready')",
            a=agency,
            s=start,
            e=end,
        )
    await sw.sql(
        "INSERT INTO register_service_outages (service_code, agency, started_at, ended_at) "
        "VALUES ('pm-birth-allowance', 'payments', :s, :e)",
        s=at(10, 10),
        e=at(10, 10, 30),
    )


async def seed_audit(sw: SingleWindowHarness) -> None:
    calls = [
        ("licensing", "registry", "registry:GET /legal-entities/{bin}", "forwarded", at(3)),
        ("licensing", "registry", "registry:GET /legal-entities/{bin}", "forwarded", at(4)),
        ("licensing", "registry", "registry:GET /legal-entities/{bin}", "forwarded", at(4, 11)),
        ("licensing", "payments", "payments:POST /invoices", "forwarded", at(4, 12)),
        ("notary", "identity", "identity:GET /persons/{iin}", "denied", at(6)),
        ("citizen", "identity", "identity:GET /persons/{iin}", "forwarded", at(6)),
        ("registry", "identity", "identity:POST /persons", "forwarded", at(2, month=11)),
    ]
    for seq, (client, agency, op, outcome, when) in enumerate(calls, start=1):
        h = hashlib.sha256(str(seq).encode()).hexdigest()
        await sw.sql(
            'INSERT INTO audit_log (instance_id, seq, at_us, request_id, client, "user", '
            "subject, agency, operation_id, service_code, purpose, method, path, status, "
            "outcome, latency_us, request_sha256, response_sha256, prev_hash, hash) VALUES "
            "('stats-test', :seq, :at, :rid, :client, NULL, NULL, :agency, :op, NULL, NULL, "
            "'GET', '/x', 200, :outcome, 1000, :h, :h, :h, :h)",
            seq=seq,
            at=int(when.timestamp() * 1_000_000),
            rid=f"req-{seq}",
            client=client,
            agency=agency,
            op=op,
            outcome=outcome,
            h=h,
        )


@pytest.fixture
async def figures_gw(single_window: SingleWindowHarness) -> SingleWindowHarness:
    await seed_applications(single_window)
    await seed_outages(single_window)
    await seed_audit(single_window)
    return single_window


async def get_stats(sw: SingleWindowHarness, **params: Any) -> dict[str, Any]:
    r = await sw.client.get("/api/v1/stats", params={**PERIOD, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def agency_grants(only: str | None = None) -> int:
    return sum(
        1
        for client, op in seed_grants()
        if client != "gateway" and (only is None or client == only or op.startswith(only + ":"))
    )


async def test_overall_figures_from_known_records(figures_gw: SingleWindowHarness) -> None:
    body = await get_stats(figures_gw)
    assert body["from"] == "2026-10-01T00:00:00Z" and body["to"] == "2026-11-01T00:00:00Z"
    o = body["overall"]
    assert o["applications"] == 6
    assert o["by_status"] == {"completed": 3, "failed": 1, "in_progress": 1, "waiting": 1}
    assert o["services_rendered"] == 3
    assert o["rendered_electronic"] == 2
    assert o["share_electronic"] == 0.6667
    assert o["term_violations"] == 2
    assert o["term_violation_share"] == 0.3333
    assert o["ratings_count"] == 3
    assert o["satisfaction_avg"] == 3.67
    assert o["ratings"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert o["time_to_result_median_s"] == 1800.0
    assert o["time_to_result_p90_s"] == 3600.0

    pay = body["by_agency"]["payments"]
    assert (pay["applications"], pay["services_rendered"], pay["share_electronic"]) == (3, 2, 1.0)
    assert (pay["term_violations"], pay["satisfaction_avg"]) == (0, 4.5)
    assert (pay["time_to_result_median_s"], pay["time_to_result_p90_s"]) == (600.0, 3600.0)
    assert set(body["by_service"]) == {
        "cx-birth-of-child",
        "pm-birth-allowance",
        "rg-birth-certificate",
    }
    assert body["by_service"]["cx-birth-of-child"]["services_rendered"] == 0
    assert body["by_service"]["cx-birth-of-child"]["time_to_result_median_s"] is None

    failures = body["technical_failures"]
    assert failures["by_agency"] == {
        "payments": {"seconds": 3000.0, "intervals": 3},
        "registry": {"seconds": 3600.0, "intervals": 1},
    }
    assert failures["total_seconds"] == 6600.0
    assert failures["by_service"] == {"pm-birth-allowance": {"seconds": 1800.0, "intervals": 1}}

    integ = body["integrations"]
    assert integ["used"] == 2
    assert integ["granted"] == agency_grants() and integ["granted"] > integ["used"]
    assert integ["operations"] == [
        {
            "client": "licensing",
            "agency": "payments",
            "operation_id": "payments:POST /invoices",
            "calls": 1,
        },
        {
            "client": "licensing",
            "agency": "registry",
            "operation_id": "registry:GET /legal-entities/{bin}",
            "calls": 3,
        },
    ]


async def test_filters_by_agency_and_service(figures_gw: SingleWindowHarness) -> None:
    body = await get_stats(figures_gw, agency="payments")
    assert body["agency"] == "payments"
    assert body["overall"]["applications"] == 3
    assert list(body["by_agency"]) == ["payments"]
    assert body["technical_failures"]["total_seconds"] == 3000.0
    assert body["integrations"]["used"] == 1
    assert body["integrations"]["granted"] == agency_grants("payments")

    one = await get_stats(figures_gw, service="rg-birth-certificate")
    assert one["overall"]["applications"] == 1
    assert one["overall"]["term_violations"] == 1
    assert one["overall"]["share_electronic"] == 0.0
    # the service's failures are its agency's (registry) and its own intervals
    assert one["technical_failures"]["by_agency"] == {
        "registry": {"seconds": 3600.0, "intervals": 1}
    }


async def test_no_personal_data_and_public(figures_gw: SingleWindowHarness) -> None:
    r = await figures_gw.client.get("/api/v1/stats", params=PERIOD)  # no token: public
    assert r.status_code == 200
    for who in APPLICANTS:
        assert who not in r.text


async def test_an_empty_period_has_zero_and_null_figures(
    single_window: SingleWindowHarness,
) -> None:
    body = await get_stats(single_window)
    o = body["overall"]
    assert (o["applications"], o["services_rendered"], o["term_violations"]) == (0, 0, 0)
    assert o["share_electronic"] is None and o["satisfaction_avg"] is None
    assert body["technical_failures"]["total_seconds"] == 0.0
    assert body["integrations"]["used"] == 0


async def test_bad_queries_are_422_problems(single_window: SingleWindowHarness) -> None:
    c = single_window.client

    def problem(r: httpx.Response) -> dict[str, Any]:
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM_JSON
        body: dict[str, Any] = r.json()
        return body

    assert "query.from" in problem(await c.get("/api/v1/stats", params={"from": "x"}))["errors"]
    assert (
        "query.to" in problem(await c.get("/api/v1/stats", params={"to": "2026-13-45"}))["errors"]
    )
    back = problem(
        await c.get("/api/v1/stats", params={"from": PERIOD["to"], "to": PERIOD["from"]})
    )
    assert back["errors"] == {"to": "must be after from"}
    assert "agency" in problem(await c.get("/api/v1/stats", params={"agency": "nasa"}))["errors"]
    assert "service" in problem(await c.get("/api/v1/stats", params={"service": "nope"}))["errors"]
    bad = problem(await c.get("/api/v1/stats", params={"agency": "BAD!"}))
    assert "query.agency" in bad["errors"]


def test_nearest_rank_and_term_rules() -> None:
    assert nearest_rank([], 50) is None
    assert nearest_rank([5.0], 90) == 5.0
    assert nearest_rank([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert nearest_rank([float(i) for i in range(1, 11)], 90) == 9.0
    now = at(20)
    open_late = ApplicationFact("s", "a", "portal", "in_progress", at(1), at(2), None, None, None)
    assert open_late.violated_term(now)
    assert not open_late.violated_term(at(1, 12))
    failed = ApplicationFact("s", "a", "portal", "failed", at(1), at(2), None, None, None)
    assert not failed.violated_term(now)
    f = figures([open_late, failed], now)
    assert f.by_status == {"failed": 1, "in_progress": 1} and f.term_violations == 1
    assert f.applications == 2 and f.rendered == 0
