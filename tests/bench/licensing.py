"""Benchmark of svc-licensing (in-process, SQLite by default; PostgreSQL with --pg URL).

    uv run python tests/bench/licensing.py [--n 200] [--pg postgresql+asyncpg://...]

Measures: application submission (identity + registry checks and the payments invoice
through an in-process gateway), payment → automatic decision → signed license, public
verification of a license document, and one SLA scan over every open application.
Prints a table and writes bench-results/licensing.json. ``run(ctx)`` is the same for a
bench runner that passes ``{"n": ..., "database_url": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "svc-licensing" / "tests"))

from licensing_harness import bin_, iin, licensing_mesh  # noqa: E402

from egov_licensing.service_layer import services  # noqa: E402
from meshkit.calendar import ALMATY  # noqa: E402


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "per_s": round(len(samples) / sum(samples), 1),
    }


async def run(ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx = ctx or {}
    n = int(ctx.get("n", 200))
    start = datetime(2026, 3, 20, 10, 0, tzinfo=ALMATY)
    with tempfile.TemporaryDirectory() as tmp:
        async with licensing_mesh(
            Path(tmp), database_url=ctx.get("database_url"), start=start, sla_check_interval_s=3600
        ) as m:
            apps: list[dict[str, Any]] = []
            submit: list[float] = []
            for i in range(n):
                director = m.doubles.person(
                    iin(1 + i % 900, datetime(1980, 1, 1).date() + timedelta(days=i // 900))
                )
                b = m.doubles.entity(bin_(1 + i), director, activity_codes=["79120"])
                t0 = time.perf_counter()
                r = await m.apply("TOUR_OPERATOR", director, b, insurance_contract=f"ДС-{i}")
                submit.append(time.perf_counter() - t0)
                assert r.status_code == 201 and r.json()["status"] == "awaiting_payment", r.text
                apps.append(r.json())
            # half stay open to give the SLA scan work
            paying, open_ = apps[: n // 2], apps[n // 2 :]
            issue: list[float] = []
            for a in paying:
                t0 = time.perf_counter()
                assert await m.pay(a)
                issue.append(time.perf_counter() - t0)
            number = (await m.as_officer("GET", f"/applications/{paying[0]['id']}")).json()[
                "license_number"
            ]
            document = (await m.as_officer("GET", f"/licenses/{number}")).json()["document"]
            verify: list[float] = []
            for _ in range(n):
                t0 = time.perf_counter()
                r = await m.client.post("/public/licenses/verify", json={"document": document})
                verify.append(time.perf_counter() - t0)
                assert r.json()["valid"]
            m.clock.advance(timedelta(days=30))
            t0 = time.perf_counter()
            flagged = await services.detect_overdue(m.ctx, m.components.uows)
            scan = time.perf_counter() - t0
            assert flagged == len(open_)
    return {
        "database": "postgresql" if ctx.get("database_url") else "sqlite",
        "submit_application": _summary(submit),
        "payment_to_signed_license": _summary(issue),
        "public_verify_document": _summary(verify),
        "sla_scan": {
            "open_applications": len(open_),
            "flagged": flagged,
            "ms": round(scan * 1000, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--pg", default=None, help="PostgreSQL async URL of an empty database")
    args = parser.parse_args()
    result = asyncio.run(run({"n": args.n, "database_url": args.pg}))
    print(f"svc-licensing benchmark ({result['database']}, n={args.n})")
    print(f"{'operation':28} {'n':>5} {'p50 ms':>9} {'p95 ms':>9} {'per s':>8}")
    for key in ("submit_application", "payment_to_signed_license", "public_verify_document"):
        r = result[key]
        print(f"{key:28} {r['n']:>5} {r['p50_ms']:>9} {r['p95_ms']:>9} {r['per_s']:>8}")
    s = result["sla_scan"]
    print(
        f"{'sla_scan':28} {s['open_applications']:>5} {s['ms']:>9} (one scan, {s['flagged']} flagged)"
    )
    out = ROOT / "bench-results" / "licensing.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
