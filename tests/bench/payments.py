"""Benchmark of svc-payments on PostgreSQL: invoices created/s and acquirer callbacks
processed/s, through the real app (routed calls with gateway assertions, HMAC-signed
callbacks), in-process over ASGI.

    python tests/bench/payments.py [--invoices 2000] [--concurrency 20] [--postgres-url URL]

Without a URL (``--postgres-url``, ``MESH_BENCH_POSTGRES_URL`` or ``MESH_TEST_POSTGRES_URL``)
a throwaway local PostgreSQL is started and removed afterwards. Prints a table and writes
``bench-results/payments.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from egov_payments.adapters.signing import signed_headers
from egov_payments.app import create_app
from egov_payments.sandbox_acquirer.settings import SandboxAcquirerSettings
from egov_payments.settings import PaymentsSettings
from meshkit.ids import random_iin
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.devinfra import find_repo_root
from meshkit_testing.devinfra.postgres import LocalPostgres, create_database_at

SECRET = "bench-secret"


@contextlib.contextmanager
def postgres_server(url: str | None, repo_root: Path) -> Iterator[str]:
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        os.chmod(tmp, 0o711)  # the server may run as the 'postgres' user
        pg = LocalPostgres(repo_root, data_dir=Path(tmp) / "pg", owner_pid=os.getpid())
        pg.start()
        try:
            yield pg.server_url
        finally:
            pg.stop()


async def _timed(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            await one(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def bench(server_url: str, *, invoices: int, concurrency: int) -> dict[str, Any]:
    db = f"bench_payments_{uuid.uuid4().hex[:8]}"
    url = create_database_at(server_url, db)
    with tempfile.TemporaryDirectory(prefix="bench-payments-") as tmp:
        gw = FakeGateway(Path(tmp))
        settings = PaymentsSettings(
            data_dir=Path(tmp),
            database_url=url,
            db_pool_size=concurrency,
            kafka_enabled=False,
            dev_mode=False,
            log_json=True,
            log_level="WARNING",
            gateway_jwks_url=gw.jwks_url,
            public_url="http://svc",
            acquirer_hmac_secret=SECRET,
            sandbox=SandboxAcquirerSettings(hmac_secret=SECRET, callback_delay_s=0),
        )
        app = create_app(settings)
        rng = random.Random(7)
        due = (date.today() + timedelta(days=30)).isoformat()
        ids: list[str] = [""] * invoices
        payers: list[str] = [random_iin(rng) for _ in range(invoices)]
        payment_ids: list[str] = [""] * invoices
        async with running(app) as client:

            async def create(i: int) -> None:
                body = {
                    "payer": payers[i],
                    "amount_tiyn": 1_534_000,
                    "purpose": "Мемлекеттік баж",
                    "kbk": "108114",
                    "beneficiary_agency": "registry",
                    "due_date": due,
                    "reference": f"B-{i}",
                }
                hdrs = gw.headers("payments", "POST", "/invoices", client="registry", json=body)
                hdrs["Idempotency-Key"] = f"bench-{i}"
                r = await client.post("/invoices", json=body, headers=hdrs)
                assert r.status_code == 201, r.text
                ids[i] = r.json()["id"]

            async def start(i: int) -> None:
                path = f"/invoices/{ids[i]}/payments"
                hdrs = gw.headers("payments", "POST", path, client="citizen", user=payers[i])
                r = await client.post(path, headers=hdrs)
                assert r.status_code == 201, r.text
                payment_ids[i] = r.json()["payment_id"]

            async def callback(i: int) -> None:
                body = json.dumps(
                    {
                        "event_id": f"bench-evt-{i}",
                        "type": "payment.captured",
                        "payment_id": payment_ids[i],
                        "amount_tiyn": 1_534_000,
                        "currency": "KZT",
                        "occurred_at": datetime.now(UTC).isoformat(),
                    }
                ).encode()
                hdrs = signed_headers(SECRET, body, timestamp=int(time.time()), acquirer="sandbox")
                r = await client.post("/acquirer/callbacks", content=body, headers=hdrs)
                assert r.status_code == 200 and r.json()["status"] == "processed", r.text

            async def duplicate(i: int) -> None:
                body = json.dumps(
                    {
                        "event_id": f"bench-evt-{i}",
                        "type": "payment.captured",
                        "payment_id": payment_ids[i],
                        "amount_tiyn": 1_534_000,
                        "currency": "KZT",
                        "occurred_at": datetime.now(UTC).isoformat(),
                    }
                ).encode()
                hdrs = signed_headers(SECRET, body, timestamp=int(time.time()), acquirer="sandbox")
                r = await client.post("/acquirer/callbacks", content=body, headers=hdrs)
                assert r.json()["status"] == "already_processed", r.text

            t_create = await _timed(invoices, concurrency, create)
            t_start = await _timed(invoices, concurrency, start)
            t_callbacks = await _timed(invoices, concurrency, callback)
            t_dups = await _timed(invoices, concurrency, duplicate)
    return {
        "service": "payments",
        "database": "postgresql",
        "invoices": invoices,
        "concurrency": concurrency,
        "invoices_created_per_s": round(invoices / t_create, 1),
        "payment_sessions_per_s": round(invoices / t_start, 1),
        "callbacks_processed_per_s": round(invoices / t_callbacks, 1),
        "duplicate_callbacks_per_s": round(invoices / t_dups, 1),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, python {platform.python_version()}",
        "note": "in-process ASGI client; each request verifies a gateway assertion (EdDSA) "
        "or an HMAC signature and commits one PostgreSQL transaction",
    }


async def run(ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    """Entry point for tests/bench/run.py."""
    ctx = ctx or {}
    url = (
        ctx.get("postgres_url")
        or os.environ.get("MESH_BENCH_POSTGRES_URL")
        or os.environ.get("MESH_TEST_POSTGRES_URL")
    )
    repo_root = Path(ctx.get("repo_root") or find_repo_root(Path(__file__)))
    with postgres_server(url, repo_root) as server:
        return await bench(
            server,
            invoices=int(ctx.get("invoices", 2000)),
            concurrency=int(ctx.get("concurrency", 20)),
        )


def print_table(result: dict[str, Any]) -> None:
    rows = [
        ("invoices created/s", result["invoices_created_per_s"]),
        ("payment sessions/s", result["payment_sessions_per_s"]),
        ("callbacks processed/s", result["callbacks_processed_per_s"]),
        ("duplicate callbacks/s", result["duplicate_callbacks_per_s"]),
    ]
    print(
        f"svc-payments on PostgreSQL — {result['invoices']} each, concurrency {result['concurrency']}"
    )
    for name, value in rows:
        print(f"  {name:<24} {value:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    result = asyncio.run(
        run(
            {
                "invoices": args.invoices,
                "concurrency": args.concurrency,
                "postgres_url": args.postgres_url,
            }
        )
    )
    print_table(result)
    out = find_repo_root(Path(__file__)) / "bench-results" / "payments.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"  → {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
