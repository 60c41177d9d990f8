"""svc-registry benchmark: births, legal-entity registrations (BIN allocation under
concurrency), property transfers by notarial sale, certificate issue and verification.

In-process (ASGI, no sockets), identity as a contract double behind the in-process routed
exchange. ``python tests/bench/registry.py [--database-url postgresql+asyncpg://…] [-n 200]``
prints a table and writes ``bench-results/registry.json``; ``run(ctx)`` returns the figures
for a bench runner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from egov_registry.app import create_app
from egov_registry.handlers import handlers
from meshkit.contracts.notary import ActRegistered
from meshkit.events import build_envelope
from meshkit.events import registry as event_types
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.ca import TestCA
from meshkit_testing.registry import (
    FATHER,
    FOUNDER_B,
    MOTHER,
    OTHER,
    Registry,
    default_identity,
    registry_settings,
    wire,
)


async def _measure(
    name: str, n: int, concurrency: int, op: Callable[[int], Awaitable[None]]
) -> dict[str, Any]:
    latencies: list[float] = []
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            t0 = time.perf_counter()
            await op(i)
            latencies.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "operation": name,
        "n": n,
        "concurrency": concurrency,
        "per_s": round(n / wall, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
    }


async def bench(database_url: str | None, n: int, data_dir: Path) -> dict[str, Any]:
    fake, identity, ca = FakeGateway(data_dir), default_identity(), TestCA()
    app = create_app(
        registry_settings(
            data_dir, database_url, gateway_jwks_url=fake.jwks_url, log_level="WARNING"
        )
    )
    revocation = wire(app, fake, identity, ca)
    results: list[dict[str, Any]] = []
    async with running(app) as client:
        reg = Registry(app, client, fake, identity, ca, revocation, "bench")

        async def birth(i: int) -> None:
            r = await reg.call(
                "POST",
                "/births",
                json={
                    "surname": "Сәрсенбаев",
                    "given_name": f"Бала{i}",
                    "birth_date": "2025-06-01",
                    "sex": "male" if i % 2 else "female",
                    "place": "Астана қ.",
                    "mother_iin": MOTHER,
                    "father_iin": FATHER,
                },
                headers={"Idempotency-Key": f"bench-{i}"},
            )
            assert r.status_code == 201, r.text

        async def entity(i: int) -> None:
            r = await reg.call(
                "POST",
                "/legal-entities",
                json={
                    "name_kk": f"«Бенч {i}» ЖШС",
                    "name_ru": f"ТОО «Бенч {i}»",
                    "legal_form": "LLP",
                    "founders": [
                        {"id": FATHER, "share": {"num": 1, "den": 2}},
                        {"id": FOUNDER_B, "share": {"num": 1, "den": 2}},
                    ],
                    "director_iin": MOTHER,
                    "address": "Астана қ.",
                },
            )
            assert r.status_code == 201, r.text

        async def prop(i: int) -> None:
            r = await reg.call(
                "POST",
                "/properties",
                json={
                    "cadastral_number": f"21:318:010:{i}:1",
                    "kind": "apartment",
                    "address": "Астана қ.",
                    "area_m2": "55.00",
                    "owners": [{"id": MOTHER, "share": {"num": 1, "den": 1}}],
                },
            )
            assert r.status_code == 201, r.text

        async def transfer(i: int) -> None:
            act = ActRegistered.model_validate(
                {
                    "act_number": f"NA-B-{i}",
                    "kind": "property_sale",
                    "notary_iin": OTHER,
                    "registered_at": "2026-01-01T10:00:00Z",
                    "parties": [MOTHER, OTHER],
                    "cadastral_number": f"21:318:010:{i}:1",
                    "sellers": [{"id": MOTHER, "share": {"num": 1, "den": 1}}],
                    "buyers": [{"id": OTHER, "share": {"num": 1, "den": 1}}],
                }
            )
            typed = event_types.parse(
                build_envelope(act, source="/svc-notary", subject=act.act_number)
            )
            uow = reg.runtime.uow_factory()
            async with uow:
                for h in handlers.handlers_for(typed.envelope.type):
                    await h(typed, uow)
                await uow.commit()

        documents: list[str] = []

        async def issue(i: int) -> None:
            r = await reg.call(
                "POST", "/certificates", json={"kind": "real_estate_presence", "subject": OTHER}
            )
            assert r.status_code == 201, r.text
            documents.append(r.json()["document"])

        async def verify(i: int) -> None:
            r = await client.post(
                "/public/certificates/verify", json={"document": documents[i % len(documents)]}
            )
            assert r.json()["valid"] is True, r.text

        results.append(await _measure("POST /births", n, 8, birth))
        results.append(await _measure("POST /legal-entities", n, 8, entity))
        results.append(await _measure("POST /properties", n, 8, prop))
        results.append(await _measure("notary.act.registered → transfer", n, 1, transfer))
        results.append(await _measure("POST /certificates", n, 8, issue))
        results.append(await _measure("POST /public/certificates/verify", n, 8, verify))
    return {
        "service": "registry",
        "database": "postgresql" if database_url else "sqlite",
        "n": n,
        "results": results,
    }


async def run(ctx: Any) -> dict[str, Any]:
    """Entry point for a bench runner (``ctx`` may carry ``database_url`` and ``n``)."""
    with tempfile.TemporaryDirectory() as tmp:
        return await bench(
            getattr(ctx, "database_url", None), int(getattr(ctx, "n", 200)), Path(tmp)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(bench(args.database_url, args.n, Path(tmp)))
    print(f"svc-registry on {figures['database']} (n={figures['n']} each, in-process)")
    print(f"{'operation':<36} {'conc':>4} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for r in figures["results"]:
        print(
            f"{r['operation']:<36} {r['concurrency']:>4} {r['per_s']:>8} {r['p50_ms']:>8} {r['p95_ms']:>8}"
        )
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    name = "registry.json" if figures["database"] == "sqlite" else "registry-postgresql.json"
    (out / name).write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    print(f"saved {out / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
