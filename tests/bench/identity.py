"""Benchmark of svc-identity: read-by-IIN at 1,000,000 persons on PostgreSQL, in-service.

    uv run python tests/bench/identity.py [--database-url URL] [--count 1000000] [--reads 5000]
        [--no-growth]

Tenfold growth: it first measures at a tenth of ``--count`` (100,000), then tops the same
database up to ``--count`` and measures again, and prints how each figure moved.
``BENCH_SCALE`` multiplies the default count and reads (e.g. 0.1: 10,000 → 100,000 persons).

Without ``--database-url`` it uses ``MESH_TEST_POSTGRES_URL`` or starts a throwaway local
PostgreSQL (like the tests). Missing persons are generated first with the service's own
generator (``python -m egov_identity generate-persons``, COPY). Then, with the service running
in-process, it measures random reads by IIN on two paths:

* ``service``: the service layer's use case (unit of work + repository: person and children);
* ``http``: ``GET /persons/{iin}`` through the ASGI app (gateway assertion verified, problem
  handling, JSON), with the assertions pre-signed since signing is the gateway's cost;
* ``http_floor``: ``GET /health/live`` through the same in-process stack (httpx client,
  middleware, metrics): the part of ``http`` that is not the read itself.

Prints a table and writes ``bench-results/identity.json``. ``run(ctx)`` is the same for a
bench runner (``ctx`` may carry ``database_url``, ``count``, ``reads``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _time(
    fn: Callable[[str, Any], Awaitable[Any]],
    iins: list[str],
    prepare: Callable[[str], Any] = lambda iin: None,
) -> dict[str, float]:
    samples = []
    cpu = 0.0
    for iin in iins:
        prepared = prepare(iin)  # not timed (e.g. the gateway's signature)
        c0 = time.process_time()
        t0 = time.perf_counter()
        await fn(iin, prepared)
        samples.append((time.perf_counter() - t0) * 1000)
        cpu += time.process_time() - c0
    return {
        # CPU of this process per read: independent of how busy the machine is
        "service_cpu_ms_per_read": round(cpu * 1000 / len(samples), 3),
        "n": len(samples),
        "p50_ms": round(_pct(samples, 0.50), 3),
        "p99_ms": round(_pct(samples, 0.99), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "max_ms": round(max(samples), 3),
    }


async def run(ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    from sqlalchemy import text

    from egov_identity.bootstrap import Components
    from egov_identity.generator import load
    from egov_identity.service_layer.persons import read_person
    from meshkit.auth.assertion import RoutedCall
    from meshkit.db import create_engine
    from meshkit_testing.apps import FakeGateway, running
    from meshkit_testing.services import build_app

    ctx = dict(ctx or {})
    count = int(ctx.get("count", 1_000_000))
    reads = int(ctx.get("reads", 5000))
    url: str = ctx["database_url"]
    result: dict[str, Any] = {"persons_target": count, "database": "postgresql"}

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            existing = (await conn.execute(text("SELECT count(*) FROM persons"))).scalar_one()
    except Exception:
        existing = 0
    if existing < count:
        gen = await load(url, count - existing, seed=int(existing) + 2026)
        result["generation"] = gen
        print(
            f"generated {gen['generated']} persons in {gen['seconds']} s "
            f"(CPU: generator {gen['generator_cpu_s']} s, "
            f"PostgreSQL backend {gen['postgres_backend_cpu_s']} s)",
            flush=True,
        )
        # settle the fresh rows now (visibility map, statistics), so that autovacuum does
        # not run during the measurement and both sizes are read in the same state
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE) persons"))
    async with engine.connect() as conn:
        result["persons"] = int(
            (await conn.execute(text("SELECT count(*) FROM persons"))).scalar_one()
        )
        sample = (
            (
                await conn.execute(
                    # pages enough for 4x the reads at any size (2 % of 1M persons)
                    text("SELECT iin FROM persons TABLESAMPLE SYSTEM (:pct) LIMIT :n"),
                    {"n": reads * 4, "pct": min(100.0, 100.0 * reads * 8 / result["persons"])},
                )
            )
            .scalars()
            .all()
        )
    await engine.dispose()
    rng = random.Random(7)
    iins = rng.sample(list(sample), min(reads, len(sample)))

    with tempfile.TemporaryDirectory() as tmp:
        gw = FakeGateway(Path(tmp))
        app = build_app(
            "identity",
            Path(tmp),
            database_url=url,
            kafka_enabled=False,
            gateway_jwks_url=gw.jwks_url,
            log_level="WARNING",
        )
        async with running(app) as client:
            identity = app.state.runtime.components_as(Components)
            call = RoutedCall(client="payments", request_id="bench", method="GET", path="/")
            today = identity.clock.now().date()

            async def service_read(iin: str, _: Any) -> None:
                await read_person(identity.person_record, call, iin, today)

            def assertion(iin: str) -> dict[str, str]:
                return gw.headers("identity", "GET", f"/persons/{iin}", client="payments")

            async def http_read(iin: str, headers: dict[str, str]) -> None:
                r = await client.get(f"/persons/{iin}", headers=headers)
                assert r.status_code == 200, r.text

            async def http_floor(iin: str, _: Any) -> None:
                r = await client.get("/health/live")
                assert r.status_code == 200

            warm = iins[: min(500, len(iins))]
            await _time(service_read, warm)
            await _time(http_read, warm, assertion)
            result["service"] = await _time(service_read, iins)
            result["http"] = await _time(http_read, iins, assertion)
            # the same in-process HTTP stack on a trivial endpoint: what HTTP alone costs here
            result["http_floor"] = await _time(http_floor, iins)
    result["load_average"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    return result


def _table(result: dict[str, Any]) -> str:
    lines = [
        f"svc-identity read-by-IIN at {result['persons']:,} persons (PostgreSQL, in-service)",
        f"{'path':<12}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'max ms':>10}"
        f"{'CPU ms/read':>13}",
    ]
    for path in ("service", "http", "http_floor"):
        r = result[path]
        lines.append(
            f"{path:<12}{r['n']:>7}{r['p50_ms']:>10.3f}{r['p99_ms']:>10.3f}"
            f"{r['mean_ms']:>10.3f}{r['max_ms']:>10.3f}{r['service_cpu_ms_per_read']:>13.3f}"
        )
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    lines.append(f"machine: {result['cpus']} CPUs, load average {load}")
    return "\n".join(lines)


GROWTH_FIGURES = [
    ("service read p50", ("service", "p50_ms"), "ms"),
    ("service read p99", ("service", "p99_ms"), "ms"),
    ("service CPU per read", ("service", "service_cpu_ms_per_read"), "ms"),
    ("HTTP read p50", ("http", "p50_ms"), "ms"),
    ("HTTP read p99", ("http", "p99_ms"), "ms"),
    ("HTTP CPU per read", ("http", "service_cpu_ms_per_read"), "ms"),
    # control: no data read at all; when it moves as much, the machine moved, not the data
    ("HTTP floor p50 (control)", ("http_floor", "p50_ms"), "ms"),
]


def main() -> None:
    sys.path.insert(0, str(ROOT / "shared"))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import growth_table, scaled

    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--count", type=int, default=None, help="persons (default 1,000,000 x BENCH_SCALE)"
    )
    parser.add_argument("--reads", type=int, default=None, help="default 5,000 x BENCH_SCALE")
    parser.add_argument(
        "--no-growth", action="store_true", help="skip the run at a tenth of --count first"
    )
    args = parser.parse_args()
    count = args.count or scaled(1_000_000, minimum=10_000)
    reads = args.reads or scaled(5_000, minimum=500)
    # tenfold growth: measure at count/10, top the same database up to count, measure again
    counts = [count] if args.no_growth else [count // 10, count]
    results: list[dict[str, Any]] = []
    with ExitStack() as stack:
        url = args.database_url
        if url is None:
            from meshkit_testing.infra import provide_postgres

            pg = stack.enter_context(provide_postgres(ROOT))
            url = pg.create_database("identity_bench")
        for n in counts:
            result = asyncio.run(run({"database_url": url, "count": n, "reads": reads}))
            print(_table(result), flush=True)
            results.append(result)
    result = dict(results[-1])
    if len(results) == 2:
        small, big = results
        result["growth"] = {
            "smaller": small,
            "figures": growth_table(
                f"read-by-IIN: {small['persons']:,} → {big['persons']:,} persons (tenfold)",
                small,
                big,
                GROWTH_FIGURES,
            ),
        }
    out = ROOT / "bench-results" / "identity.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
