"""Benchmark of the Unified Register's hot path: ``resolve()`` and ``is_granted()`` run on
every routed call, so they must cost microseconds; plus the cost of rebuilding the snapshot
(every admin change) and of a catalogue search through the HTTP API.

    uv run python tests/bench/gateway_register.py      # prints a table, writes bench-results/

``async def run(ctx)`` is the entry point for a bench runner (``ctx`` is unused).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from egov_gateway.register.domain.catalogue import RegisterSnapshot, StoredDocument
from egov_gateway.register.seed import default_agency_urls, seed_grants, seed_members, seed_services

CALLS = [
    ("identity", "GET", "/persons/900101300123", {}),
    ("registry", "GET", "/properties", {"owner": "851212400222"}),
    ("registry", "GET", "/public/certificates/RC-2026-000123", {}),
    ("notary", "POST", "/acts/7f2c/notary-signature", {}),
    ("payments", "POST", "/invoices/inv-1/payments", {}),
    ("licensing", "GET", "/licenses/KZ-2026-0001", {}),
    ("identity", "GET", "/no/such/operation", {}),
]


def _big_document(n: int) -> dict[str, Any]:
    """An agency document with ``n`` extra operations, so matching is not trivially small."""
    paths: dict[str, Any] = {}
    for i in range(n):
        paths[f"/resource{i}/{{id}}/part{i % 7}"] = {"get": {}, "post": {}}
        paths[f"/resource{i}"] = {"get": {}}
    return {"openapi": "3.1.0", "paths": paths}


def _snapshot(extra_ops: int) -> RegisterSnapshot:
    docs = {
        a: StoredDocument(a, _big_document(extra_ops), "x", None)
        for a in ("identity", "registry", "licensing", "payments", "notary")
    }
    return RegisterSnapshot(
        seed_members(default_agency_urls()), docs, seed_services(), seed_grants()
    )


def _per_call_us(fn: Any, rounds: int) -> float:
    best = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(rounds):
            fn()
        best.append((time.perf_counter() - t) / rounds * 1e6)
    return min(best)


async def _search_latency_ms() -> tuple[float, float]:
    from meshkit_testing.apps import running
    from meshkit_testing.services import build_app

    with tempfile.TemporaryDirectory() as d:
        app = build_app(
            "gateway",
            Path(d),
            kafka_enabled=False,
            log_level="WARNING",  # 200 access-log lines would bury the table
            register_options={"background": False},
        )
        async with running(app) as client:
            samples = []
            for i in range(200):
                q = ["тіркеу", "справка", "license", "недвижим", "ұлттық"][i % 5]
                t = time.perf_counter()
                r = await client.get("/api/v1/services", params={"q": q, "page_size": 20})
                samples.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200
            samples.sort()
            return statistics.median(samples), samples[int(len(samples) * 0.95)]


async def run(ctx: Any = None) -> dict[str, Any]:
    import logging

    logging.disable(logging.CRITICAL)
    out: dict[str, Any] = {}
    for extra in (0, 200):
        snap = _snapshot(extra)
        ops = sum(len(snap.operations_of(a)) for a in snap.operations)

        def resolve_all(snap: RegisterSnapshot = snap) -> None:
            for agency, method, path, query in CALLS:
                snap.resolve(agency, method, path, query)

        out[f"resolve_us_per_call_{ops}_ops"] = round(
            _per_call_us(resolve_all, 2000) / len(CALLS), 2
        )
        out[f"is_granted_us_{ops}_ops"] = round(
            _per_call_us(lambda s=snap: s.is_granted("registry", "identity:POST /persons"), 20000),
            3,
        )
        t = time.perf_counter()
        for _ in range(5):
            _snapshot(extra)
        out[f"snapshot_rebuild_ms_{ops}_ops"] = round((time.perf_counter() - t) / 5 * 1000, 2)
    p50, p95 = await _search_latency_ms()
    out["search_http_p50_ms"] = round(p50, 2)
    out["search_http_p95_ms"] = round(p95, 2)
    out["services_seeded"] = len(seed_services())
    return out


def main() -> None:
    results = asyncio.run(run())
    width = max(len(k) for k in results)
    for k, v in results.items():
        print(f"{k:<{width}}  {v}")
    target = Path("bench-results")
    target.mkdir(exist_ok=True)
    (target / "gateway_register.json").write_text(json.dumps(results, indent=2))
    print(f"written {target / 'gateway_register.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
