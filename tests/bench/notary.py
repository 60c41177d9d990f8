"""svc-notary benchmark: drafting with gateway checks, signing, registration under concurrent
payment events (numbers stay unique and gap-free), public verification.

    uv run python tests/bench/notary.py            # SQLite; PostgreSQL too when
    MESH_TEST_POSTGRES_URL=postgresql://… uv run python tests/bench/notary.py

Prints a table and writes bench-results/notary.json. ``run(ctx)`` returns the same figures
for a bench runner. svc-notary runs in-process; identity, registry and payments are the
contract doubles of svc-notary/tests (in-process routed exchange, no sockets).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "svc-notary" / "tests"))

from conftest import (  # noqa: E402
    BUYER,
    NOTARY_IIN,
    SELLER_A,
    SELLER_B,
    Notary,
    notary_service,
    sale_draft,
)

from meshkit.contracts.payments import InvoicePaid  # noqa: E402


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


async def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = await fn()
    return (time.perf_counter() - t0) * 1000, out


async def _bench_backend(notary: Notary, n_acts: int) -> dict[str, Any]:
    draft_ms: list[float] = []
    sign_ms: list[float] = []
    act_ids: list[str] = []
    t_start = time.perf_counter()
    for _ in range(n_acts):
        ms, r = await _timed(
            lambda: notary.call("POST", "/acts", user=NOTARY_IIN, json=sale_draft())
        )
        assert r.status_code == 201 and r.json()["status"] == "checks_passed", r.text
        draft_ms.append(ms)
        act_ids.append(r.json()["id"])
    draft_s = time.perf_counter() - t_start
    for act_id in act_ids:
        for iin in (SELLER_A, SELLER_B, BUYER):
            ms, r = await _timed(lambda iin=iin, act_id=act_id: notary.sign(act_id, iin))
            assert r.status_code == 200, r.text
            sign_ms.append(ms)
        r = await notary.sign(act_id, NOTARY_IIN, as_notary=True)
        assert r.status_code == 200, r.text

    # every payment arrives at once, each twice (a duplicate): one registration per act
    async def pay(act_id: str) -> None:
        invoice = notary.mesh.invoices[act_id]
        paid = InvoicePaid(
            invoice_id=invoice.id,
            payer=invoice.payer,
            amount_tiyn=invoice.amount_tiyn,
            beneficiary_agency="notary",
            reference=act_id,
            paid_at=datetime.now(UTC),
        )
        for _ in range(
            20
        ):  # a concurrent change (version conflict) is retried, as the consumer does
            try:
                await notary.deliver(paid)
                return
            except Exception as exc:
                if "changed by another request" not in str(
                    exc
                ) and "could not serialize" not in str(exc):
                    raise
                await asyncio.sleep(0.01)
        raise RuntimeError("payment kept conflicting")

    t0 = time.perf_counter()
    await asyncio.gather(*(pay(a) for a in act_ids + act_ids))
    register_s = time.perf_counter() - t0
    acts = [await notary.act(a) for a in act_ids]
    numbers = sorted(int(a["number"].rsplit("-", 1)[1]) for a in acts)
    assert all(a["status"] == "registered" for a in acts)
    assert numbers == list(range(numbers[0], numbers[0] + n_acts)), "numbers not unique/gap-free"
    registered_events = await notary.outbox("kz.egov.notary.act.registered.v1")
    assert len(registered_events) == n_acts

    verify_ms: list[float] = []
    for a in acts:
        ms, r = await _timed(
            lambda a=a: notary.client.get(
                f"/public/acts/{a['number']}", params={"code": a["verification_code"]}
            )
        )
        assert r.status_code == 200
        verify_ms.append(ms)
    return {
        "acts": n_acts,
        "draft_with_checks_per_s": round(n_acts / draft_s, 1),
        "draft_p50_ms": round(statistics.median(draft_ms), 1),
        "draft_p95_ms": round(_pct(draft_ms, 0.95), 1),
        "party_signature_p50_ms": round(statistics.median(sign_ms), 1),
        "party_signature_p95_ms": round(_pct(sign_ms, 0.95), 1),
        "registrations_per_s_concurrent_paid_x2": round(n_acts / register_s, 1),
        "registered_events": len(registered_events),
        "public_verify_p50_ms": round(statistics.median(verify_ms), 1),
        "public_verify_p95_ms": round(_pct(verify_ms, 0.95), 1),
    }


async def run(ctx: Any = None) -> dict[str, Any]:
    import os

    n_acts = int(getattr(ctx, "n", None) or os.environ.get("NOTARY_BENCH_ACTS", "40"))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("sqlite", "pg"):
            (Path(tmp) / sub).mkdir()
        async with notary_service(Path(tmp) / "sqlite", None, log_level="WARNING") as notary:
            results["sqlite"] = await _bench_backend(notary, n_acts)
        pg = os.environ.get("MESH_TEST_POSTGRES_URL")
        if pg:
            from meshkit_testing.infra import ExternalPostgres

            server = ExternalPostgres(pg)
            name = f"bench_notary_{uuid.uuid4().hex[:8]}"
            url = server.create_database(name)
            try:
                async with notary_service(Path(tmp) / "pg", url, log_level="WARNING") as notary:
                    results["postgresql"] = await _bench_backend(notary, n_acts)
            finally:
                server.drop_database(name)
    return results


def main() -> None:
    results = asyncio.run(run())
    keys = list(next(iter(results.values())).keys())
    backends = list(results)
    print(f"{'svc-notary':42}" + "".join(f"{b:>14}" for b in backends))
    for k in keys:
        print(f"{k:42}" + "".join(f"{results[b][k]:>14}" for b in backends))
    out = ROOT / "bench-results" / "notary.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"service": "notary", "at": datetime.now(UTC).isoformat(), "results": results}, indent=2
        )
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
