"""*Birth of a child* end to end: time from submitting the application to the allowance paid.

The six services run as processes (PostgreSQL, one database each; a local Kafka), the mother
logs in with password + SMS code, then applies ``-n`` times (``-c`` at a time). For each
application the gateway's own timestamps give submitted → completed (registry registers the
birth, identity allocates the child's IIN, ``registry.birth.registered`` reaches the gateway,
identity confirms the record, payments pays the allowance, ``payments.payout.completed``
completes it); the client-side figure adds the polling of the status (every 20 ms).

``python tests/bench/birth.py [-n 30] [-c 1] [--before FILE]`` prints a table and writes
``bench-results/birth.json``; the figures of ``--before`` (default: the previous
``birth.json``, e.g. a run before a change) are printed beside the new ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    kafka_broker,
    percentile,
    postgres_server,
    print_table,
    save,
    scratch_dir,
)

from meshkit_testing.processes import birth_form, process_mesh

MOTHER, MOTHER_PHONE = "920308400210", "+77021234568"
FATHER = "900115300122"


def payload(i: int) -> dict[str, Any]:
    return birth_form(i, mother_iin=MOTHER, father_iin=FATHER)


async def one(gw: httpx.AsyncClient, token: str, i: int) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    r = await gw.post(
        "/api/v1/applications",
        json={"service_code": "cx-birth-of-child", "payload": payload(i)},
        headers=headers,
    )
    r.raise_for_status()
    app_id = r.json()["id"]
    deadline = started + 120
    while time.perf_counter() < deadline:
        r = await gw.get(f"/api/v1/applications/{app_id}", headers=headers)
        body = r.json()
        if body["status"] == "completed":
            client_s = time.perf_counter() - started
            server_s = (
                datetime.fromisoformat(body["completed_at"])
                - datetime.fromisoformat(body["submitted_at"])
            ).total_seconds()
            return client_s, server_s
        if body["status"] == "failed":
            raise RuntimeError(f"application failed: {body['failure_reason']}")
        await asyncio.sleep(0.02)  # polling interval of the citizen's status page
    raise TimeoutError(f"application {app_id} not completed in 120 s")


async def measure(url: str, token: str, n: int, concurrency: int) -> list[tuple[float, float]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as gw:
        await one(gw, token, 10_000)  # warm-up (JWKS, token, connections)
        results: list[tuple[float, float]] = []
        sem = asyncio.Semaphore(concurrency)

        async def run(i: int) -> None:
            async with sem:
                results.append(await one(gw, token, i))

        await asyncio.gather(*(run(i) for i in range(n)))
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("-c", type=int, default=1)
    parser.add_argument("--before", type=Path, default=ROOT / "bench-results" / "birth.json")
    args = parser.parse_args()
    before: dict[str, Any] = json.loads(args.before.read_text()) if args.before.exists() else {}
    run = uuid.uuid4().hex[:8]
    with (
        postgres_server() as pg,
        kafka_broker() as kafka,
        process_mesh(
            scratch_dir(),
            kafka.bootstrap_servers,
            database_url=lambda name: pg.create_database(f"bench_birth_{run}_{name}"),
            # one mother with 30 births in 15 s (and her status page polled every 20 ms) is
            # a load device, not a citizen: under the citizen's 10 calls/s one in five
            # applications waited a second for its certificate step (429, Retry-After 1)
            extra_env={"GATEWAY_RATE_LIMIT_CITIZEN_RPS": "0"},
            cwd=ROOT,
        ) as mesh,
    ):
        token = mesh.login(MOTHER, MOTHER_PHONE)
        started = time.perf_counter()
        samples = asyncio.run(measure(mesh.url("gateway"), token, args.n, args.c))
        wall = time.perf_counter() - started
    client = [c * 1000 for c, _ in samples]
    server = [s * 1000 for _, s in samples]
    figures = {
        "applications": len(samples),
        "concurrency": args.c,
        "submit_to_paid_p50_ms": round(percentile(client, 50), 1),
        "submit_to_paid_p95_ms": round(percentile(client, 95), 1),
        "gateway_submitted_to_completed_p50_ms": round(percentile(server, 50), 1),
        "gateway_submitted_to_completed_p95_ms": round(percentile(server, 95), 1),
        "applications_per_s": round(len(samples) / wall, 2),
        # in submission order: a slow tail shows whether it is start-up or spread throughout
        "submit_to_paid_ms": [round(c, 1) for c in client],
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "setup": "6 services as processes, PostgreSQL (one database each), local Kafka",
    }

    def was(key: str, unit: str = " ms") -> str:
        return f"   (before: {before[key]}{unit})" if before.get(key) is not None else ""

    print_table(
        f"Birth of a child: submit → allowance paid ({len(samples)} applications, c={args.c})",
        [
            (
                "p50 (citizen, incl. 20 ms polling)",
                f"{figures['submit_to_paid_p50_ms']} ms{was('submit_to_paid_p50_ms')}",
            ),
            (
                "p95 (citizen, incl. 20 ms polling)",
                f"{figures['submit_to_paid_p95_ms']} ms{was('submit_to_paid_p95_ms')}",
            ),
            (
                "p50 (gateway timestamps)",
                f"{figures['gateway_submitted_to_completed_p50_ms']} ms"
                f"{was('gateway_submitted_to_completed_p50_ms')}",
            ),
            (
                "p95 (gateway timestamps)",
                f"{figures['gateway_submitted_to_completed_p95_ms']} ms"
                f"{was('gateway_submitted_to_completed_p95_ms')}",
            ),
            (
                "throughput",
                f"{figures['applications_per_s']} applications/s"
                f"{was('applications_per_s', ' applications/s')}",
            ),
            ("machine", f"load average {figures['load_average']}{was('load_average', '')}"),
        ],
    )
    if before:
        figures["before"] = {k: v for k, v in before.items() if k != "before"}
    print(f"saved {save('birth', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
