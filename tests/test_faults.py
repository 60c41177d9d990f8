"""Faults under load (issue 10): the six services as processes on PostgreSQL and Kafka, a
citizen submitting *Birth of a child* at a steady rate the whole time, while Kafka, PostgreSQL,
each agency and the gateway are in turn killed (SIGKILL) and started again.

Each fault: SIGKILL, the load keeps hitting the mesh until ``HITS_PER_OUTAGE`` more
submissions were attempted while the component is down, start it again, poll until every
service answers ``/health/ready``, then until an application completes again (the mesh moves
applications on end to end) before the next fault.

Afterwards the load stops and, within a deadline, every application of the citizen is
``completed`` or ``failed`` with a reason. Then:

* exactly once: every completed birth has one registry birth act, one person (the child's
  IIN) in identity linked to the mother, one allowance payout referencing the act; no act,
  child or payout that no application accounts for;
* no event lost or applied twice: every outbox row of every service is published, and every
  event a consumer group handles (the types in its inbox, plus the birth flow's) is in that
  group's inbox exactly once — no more, no fewer than the producer's outbox holds;
* the payments ledger balances (svc-payments' reconciliation report ``ledger_balanced``, every
  posting sums to zero, the kept balances equal the sums of their entries and none is
  negative, one ``payout`` posting per payout);
* the gateway's audit chain verifies (``GET /api/v1/audit/verify``);
* no service answered 500 meanwhile (an outage is a 502/503 problem, never a 500).

A report (faults injected, when, downtime, time to ready and to the first completion after it,
applications submitted/refused/completed/failed, events checked, ledger, audit) is printed to
the terminal (even without ``-s``) and saved as ``bench-results/faults.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from meshkit import calendar
from meshkit.db import create_engine
from meshkit_testing.polling import eventually
from meshkit_testing.processes import SERVICES, ProcessMesh, birth_form, single_window_mesh

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.kafka,
    pytest.mark.postgres,
    pytest.mark.slow,
    # ~3-5 min on 2 quiet cores; the deadlines inside fail it long before this on a real hang
    pytest.mark.timeout(1200),
]

ROOT = Path(__file__).resolve().parents[1]
MOTHER, MOTHER_PHONE = "920308400210", "+77021234568"
FATHER = "900115300122"
OPERATOR, OPERATOR_PHONE = "880707300858", "+77471234573"
BIRTH = "cx-birth-of-child"

FAULTS = ("kafka", "postgres", "identity", "registry", "licensing", "payments", "notary", "gateway")
SUBMIT_EVERY_S = 2.0  # the steady load: one application every SUBMIT_EVERY_S seconds
HITS_PER_OUTAGE = 1  # submissions attempted while a component is down
READY_WITHIN_S = 120.0
SETTLE_WITHIN_S = 180.0
# events each consumer group must have applied in the birth flow (besides whatever else its
# inbox shows it handles): registry's birth registered → identity links the child, the
# gateway moves the application on; payments' payout completed → the gateway completes it
BIRTH_FLOW_CONSUMES = {
    "identity": {"kz.egov.registry.birth.registered.v1"},
    "gateway": {"kz.egov.registry.birth.registered.v1", "kz.egov.payments.payout.completed.v1"},
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def birth_payload(i: int) -> dict[str, Any]:
    return birth_form(i, mother_iin=MOTHER, father_iin=FATHER)


@dataclass
class SteadyLoad:
    """One submission every ``every_s`` seconds, each in its own task (a slow or dead
    gateway does not slow the rate down); remembers what became an application."""

    gateway_url: str
    token: str
    every_s: float
    launched: int = 0
    submitted: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, app id)
    refused: Counter[str] = field(default_factory=Counter)  # why a submission got no 201
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=self.gateway_url, timeout=15, limits=limits) as gw:
            while not self._stop.is_set():
                task = asyncio.create_task(self._submit(gw, self.launched))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                self.launched += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=self.every_s)  # the rate
            await asyncio.gather(*self._tasks)

    async def _submit(self, gw: httpx.AsyncClient, i: int) -> None:
        try:
            r = await gw.post(
                "/api/v1/applications",
                json={"service_code": BIRTH, "payload": birth_payload(i)},
                headers=bearer(self.token),
            )
        except httpx.HTTPError as exc:
            self.refused[type(exc).__name__] += 1
            return
        if r.status_code == 201:
            self.submitted.append((time.monotonic(), r.json()["id"]))
        else:
            self.refused[f"HTTP {r.status_code}"] += 1

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def mesh(kafka: Any, postgres: Any, tmp_path: Path) -> Iterator[ProcessMesh]:
    # a step whose agency is down is retried for longer than any outage here
    with single_window_mesh(
        tmp_path / "mesh",
        kafka.bootstrap_servers,
        postgres,
        prefix="faults",
        step_retry_for_s=150,
        cwd=ROOT,
    ) as m:
        yield m


async def scalar(db_url: str, sql: str, **params: Any) -> Any:
    return (await rows(db_url, sql, **params))[0][0]


async def rows(db_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


def mesh_log(mesh: ProcessMesh, name: str) -> str:
    path = mesh.data_dir / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def save_report(report: dict[str, Any]) -> Path:
    """``bench-results/faults.json`` through the benchmarks' own ``save``."""
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "tests/bench/common.py")
    assert spec is not None and spec.loader is not None
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)
    path: Path = common.save("faults", report)
    return path


def format_report(report: dict[str, Any]) -> str:
    lines = ["", "== faults under load (tests/test_faults.py) =="]
    lines.append(
        f"  {'fault':<10} {'killed at (UTC)':<16} {'down s':>7} {'to ready s':>10} "
        f"{'to 1st completed s':>19} {'hits while down':>15}"
    )
    for f in report["faults"]:
        lines.append(
            f"  {f['target']:<10} {f['killed_at'][11:23]:<16} {f['down_s']:>7.1f} "
            f"{f['restart_to_ready_s']:>10.1f} {f.get('ready_to_first_completed_s', -1):>19.1f} "
            f"{f['submissions_while_down']:>15}"
        )
    keys = ("load", "applications", "events", "exactly_once", "ledger", "audit", "http_500s")
    for key in (*keys, "runtime_s"):
        if key in report:
            lines.append(f"  {key:<13} {json.dumps(report[key], ensure_ascii=False)}")
    return "\n".join(lines)


def show(request: pytest.FixtureRequest, report: dict[str, Any]) -> None:
    """Print the report to the terminal whether or not pytest captures output, and save it."""
    path = save_report(report)
    out = format_report(report) + f"\n  saved to {path}\n"
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print(out, flush=True)
    else:
        print(out, flush=True)


async def test_the_mesh_survives_each_component_killed_under_load(
    mesh: ProcessMesh, kafka: Any, postgres: Any, request: pytest.FixtureRequest
) -> None:
    t_start = time.monotonic()
    report: dict[str, Any] = {"faults": [], "submit_every_s": SUBMIT_EVERY_S}
    token = mesh.login(MOTHER, MOTHER_PHONE)
    operator = mesh.login(OPERATOR, OPERATOR_PHONE)
    persons_before = {
        iin for (iin,) in await rows(mesh.database_urls["identity"], "SELECT iin FROM persons")
    }
    load = SteadyLoad(mesh.url("gateway"), token, SUBMIT_EVERY_S)
    load_task = asyncio.create_task(load.run())
    gw = httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=15)
    try:

        async def status_of(app_id: str) -> dict[str, Any] | None:
            try:
                r = await gw.get(f"/api/v1/applications/{app_id}", headers=bearer(token))
            except httpx.HTTPError:
                return None
            return r.json() if r.status_code == 200 else None

        async def listed() -> list[dict[str, Any]]:
            """Every application of the citizen (summaries, newest first)."""
            items: list[dict[str, Any]] = []
            while True:
                r = await gw.get(
                    "/api/v1/me/applications",
                    params={"limit": 200, "offset": len(items)},
                    headers=bearer(token),
                )
                assert r.status_code == 200, r.text
                page = r.json()["items"]
                items += page
                if len(page) < 200:
                    return items

        async def completes_after(since: datetime, t0: float) -> float:
            """Seconds from ``t0`` until some application completes after ``since``: the
            mesh moves applications on again."""

            async def one_completed() -> bool:
                with contextlib.suppress(httpx.HTTPError):
                    for app in await listed():
                        done = app["completed_at"] and datetime.fromisoformat(app["completed_at"])
                        if app["status"] == "completed" and done and done > since:
                            return True
                return False

            await eventually(
                one_completed, within=SETTLE_WITHIN_S, what="an application completed", interval=1
            )
            return round(time.monotonic() - t0, 2)

        def kill(target: str) -> None:
            {"kafka": kafka.kill, "postgres": postgres.kill}.get(
                target, partial(mesh.kill, target)
            )()

        def start(target: str) -> None:
            if target in ("kafka", "postgres"):
                (kafka if target == "kafka" else postgres).start()
            else:
                mesh.start(target, ready_within=READY_WITHIN_S)

        started_at = datetime.now(UTC)
        report["start_to_first_completed_s"] = await completes_after(started_at, t_start)
        for target in FAULTS:
            before = load.launched
            killed_at = datetime.now(UTC)
            t_kill = time.monotonic()
            await asyncio.to_thread(kill, target)

            async def hit(before: int = before) -> bool:
                return load.launched >= before + HITS_PER_OUTAGE

            await eventually(hit, within=30, what=f"the load to hit the dead {target}")
            t_restart = time.monotonic()
            await asyncio.to_thread(start, target)
            await asyncio.to_thread(mesh.wait_ready, *SERVICES, within=READY_WITHIN_S)
            t_ready, ready_at = time.monotonic(), datetime.now(UTC)
            record = {
                "target": target,
                "killed_at": killed_at.isoformat(),
                "down_s": round(t_ready - t_kill, 2),
                "restart_to_ready_s": round(t_ready - t_restart, 2),
                "submissions_while_down": load.launched - before,
            }
            report["faults"].append(record)
            # the mesh completes applications again before the next fault
            record["ready_to_first_completed_s"] = await completes_after(ready_at, t_ready)

        load.stop()
        await load_task

        # -- every application of the citizen ends: completed, or failed with a reason
        apps: dict[str, dict[str, Any]] = {}

        async def all_ended() -> bool:
            apps.clear()
            apps.update({a["id"]: a for a in await listed()})
            return all(a["status"] in ("completed", "failed") for a in apps.values())

        await eventually(
            all_ended, within=SETTLE_WITHIN_S, what="every application to end", interval=1
        )
        known = {app_id for _, app_id in load.submitted}
        assert known <= set(apps), "an accepted application is missing from the citizen's list"
        statuses = Counter(a["status"] for a in apps.values())
        failed = {i: a["failure_reason"] for i, a in apps.items() if a["status"] == "failed"}
        report["applications"] = {
            "attempted": load.launched,
            "accepted": len(known),
            "refused_at_submission": dict(load.refused),
            "listed": len(apps),
            "completed": statuses["completed"],
            "failed": statuses["failed"],
            "failure_reasons": sorted(set(failed.values())),
        }
        assert all(reason for reason in failed.values()), f"failed without a reason: {failed}"
        assert {a["service_code"] for a in apps.values()} == {BIRTH}

        # -- exactly once, application by application
        some = asyncio.Semaphore(8)

        async def fetch(app_id: str) -> dict[str, Any] | None:
            async with some:
                return await status_of(app_id)

        views = dict(zip(apps, await asyncio.gather(*map(fetch, apps)), strict=True))
        assert all(v is not None for v in views.values())
        acts: dict[str, str] = {}  # act number -> child IIN, of applications that got one
        payouts_of_apps: dict[str, str] = {}  # payout id -> act number
        for app_id, view in views.items():
            assert view is not None
            steps = {s["name"]: s for s in view["steps"]}
            event = steps["register_birth"]["event"]
            if event:
                assert event["act_number"] not in acts, f"{app_id}: an act of another application"
                acts[event["act_number"]] = event["child_iin"]
            if view["status"] == "completed":
                assert (
                    event and steps["confirm_child_record"]["result"]["iin"] == event["child_iin"]
                )
                assert view["result"]["recipient_iin"] == MOTHER
                payouts_of_apps[view["result"]["payout_id"]] = event["act_number"]
        db = mesh.database_urls
        registry_acts = dict(
            await rows(db["registry"], "SELECT act_number, child_iin FROM birth_acts")
        )
        assert registry_acts == acts, "a birth act no application accounts for, or one missing"
        children = {
            iin for (iin,) in await rows(db["identity"], "SELECT iin FROM persons")
        } - persons_before
        assert sorted(children) == sorted(acts.values()), "a person no birth act accounts for"
        linked = await scalar(
            db["identity"],
            "SELECT count(*) FROM persons WHERE iin = ANY(:iins) AND mother_iin = :m",
            iins=list(children),
            m=MOTHER,
        )
        payouts = dict(
            await rows(db["payments"], "SELECT id, reference FROM payouts WHERE kbk = '213050'")
        )
        assert payouts == payouts_of_apps, "a payout no application accounts for, or one missing"
        assert len(set(payouts.values())) == len(payouts), "an act paid twice"
        report["exactly_once"] = {
            "birth_acts": len(registry_acts),
            "children_in_identity": len(children),
            "children_linked_to_mother": linked,
            "allowance_payouts": len(payouts),
        }

        # -- events: all published, each handled exactly once by each group that handles it
        events: dict[str, Any] = {}

        async def all_published() -> bool:
            pending = {n: await scalar(db[n], "SELECT count(*) FROM outbox")
                       for n in SERVICES}  # fmt: skip
            events["unpublished"] = {n: c for n, c in pending.items() if c}
            return not events["unpublished"]

        await eventually(all_published, within=60, what="every outbox row published", interval=1)
        outboxes = {
            n: {
                (t, e) for t, e in await rows(db[n], "SELECT event_type, event_id FROM outbox_sent")
            }
            for n in SERVICES
        }
        produced: dict[str, set[str]] = {}  # event type -> ids
        for pairs in outboxes.values():
            for event_type, event_id in pairs:
                produced.setdefault(event_type, set()).add(event_id)
        missing: dict[str, Any] = {}

        async def all_consumed() -> bool:
            missing.clear()
            checked = 0
            for consumer in SERVICES:
                inbox = await rows(db[consumer], "SELECT event_type, event_id FROM inbox")
                handled = {t for t, _ in inbox} | BIRTH_FLOW_CONSUMES.get(consumer, set())
                for event_type in handled:
                    got = [e for t, e in inbox if t == event_type]
                    want = produced.get(event_type, set())
                    assert len(got) == len(set(got)), f"{consumer} applied {event_type} twice"
                    assert set(got) <= want, f"{consumer} applied {event_type} never produced"
                    if set(got) != want:
                        missing[f"{consumer}:{event_type}"] = len(want - set(got))
                    checked += len(got)
            events["consumed_checked"] = checked
            return not missing

        await eventually(all_consumed, within=60, what="every event consumed", interval=1)
        events["produced"] = sum(len(ids) for ids in produced.values())
        events["lost"] = sum(missing.values())
        events["applied_twice"] = 0
        report["events"] = events

        # -- the ledger balances
        admin = bearer(mesh.dev_secret("gateway-admin"))
        r = await gw.post(
            "/api/v1/admin/grants",
            # payments' own back office (the allowances are paid from its budget); the ledger's
            # balance is global. Not the gateway's client: it acts for citizens only (issue 15)
            json={"client": "payments", "operation_id": "payments:GET /reports/reconciliation"},
            headers=admin,
        )
        assert r.status_code in (200, 201), r.text
        agency = mesh.agency_token("payments")
        reconciliation: dict[str, Any] = {}

        async def reconciled() -> bool:
            r = await gw.get(
                "/x/payments/reports/reconciliation",
                params={"date": calendar.local_date(datetime.now(UTC)).isoformat()},
                headers={**bearer(agency), "X-Mesh-Purpose": "faults test: ledger check"},
            )
            assert r.status_code in (200, 403), r.text  # 403 until the grant is loaded
            reconciliation.update(r.json() if r.status_code == 200 else {})
            return r.status_code == 200

        await eventually(reconciled, within=30, what="the reconciliation report")
        unbalanced = await rows(
            db["payments"],
            "SELECT transaction_id FROM ledger_entries GROUP BY transaction_id"
            " HAVING sum(amount_tiyn) <> 0",
        )
        drift = await rows(
            db["payments"],
            "SELECT b.account, b.balance_tiyn, coalesce(sum(e.amount_tiyn), 0)"
            " FROM account_balances b LEFT JOIN ledger_entries e ON e.account = b.account"
            " GROUP BY b.account, b.balance_tiyn"
            " HAVING b.balance_tiyn <> coalesce(sum(e.amount_tiyn), 0) OR b.balance_tiyn < 0",
        )
        payout_postings = await scalar(
            db["payments"], "SELECT count(*) FROM ledger_transactions WHERE kind = 'payout'"
        )
        report["ledger"] = {
            "ledger_balanced": reconciliation["ledger_balanced"],
            "mismatches": len(reconciliation["mismatches"]),
            "unbalanced_postings": len(unbalanced),
            "balance_drift": [list(map(str, d)) for d in drift],
            "payout_postings": payout_postings,
        }

        # -- the audit chain verifies
        r = await gw.get("/api/v1/audit/verify", headers=bearer(operator))
        assert r.status_code == 200, r.text
        audit = r.json()
        report["audit"] = {
            k: audit.get(k) for k in ("ok", "records_checked", "first_broken", "chains")
        }
    finally:
        load.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(load_task, timeout=30)
        await gw.aclose()
        report["runtime_s"] = round(time.monotonic() - t_start, 1)
        # answers of 500 (a bug: an outage must be a 503 or 502) — reported, see the logs
        report["http_500s"] = {
            n: c for n in SERVICES if (c := mesh_log(mesh, n).count("http.unhandled_error"))
        }
        report["load"] = {
            "attempted": load.launched,
            "accepted": len(load.submitted),
            "refused": dict(load.refused),
        }
        show(request, report)

    assert reconciliation["ledger_balanced"] is True, reconciliation
    assert reconciliation["mismatches"] == [], reconciliation["mismatches"]
    assert unbalanced == [] and drift == [], (unbalanced, drift)
    assert payout_postings == len(payouts)
    assert linked == len(children), "a child not linked to the mother (birth event not applied)"
    assert audit["ok"] is True, audit
    assert statuses["completed"] > 0
    assert report["http_500s"] == {}, f"answered 500 during the faults: {report['http_500s']}"
