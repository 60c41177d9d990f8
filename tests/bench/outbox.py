"""Event pipeline benchmark: outbox → relay → Apache Kafka → consumer with inbox, on PostgreSQL.

Prints and saves (bench-results/outbox.json):
- outbox writes/s (domain change + event in one transaction, batched 100 per transaction);
- relay publish rate (events/s from a full outbox to Kafka, acks=all);
- consumer apply rate (events/s through inbox dedup + handler transaction);
- end-to-end latency (commit → applied) p50/p99 with writer, relay and consumer running together;
- the same at tenfold volume when ``--scale`` is given (default 1 and 10 via ``--growth``).

    uv run python tests/bench/outbox.py [--events 20000] [--growth]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import kafka_broker, postgres_server, print_table, save, summary_ms

from meshkit.db import create_engine, session_factory
from meshkit.events import TypedEvent
from meshkit.messaging import EventConsumer, HandlerRegistry, OutboxRelay, UnitOfWork
from meshkit.testing.sample_domain import ChangeMade, create_schema, write_changes


async def measure(pg_url: str, bootstrap: str, events: int) -> dict[str, Any]:
    engine = create_engine(pg_url, pool_size=10)
    await create_schema(engine)
    sf = session_factory(engine)
    topic = f"bench.{uuid.uuid4().hex[:8]}"

    def uow() -> UnitOfWork:
        return UnitOfWork(sf, source="/svc-bench", topic=topic)

    # 1. writes into the outbox (no relay running)
    t0 = time.perf_counter()
    for start in range(1, events + 1, 100):
        await write_changes(uow(), start, 100, keys=64)
    write_s = time.perf_counter() - t0

    # 2. relay drains a full outbox
    relay = OutboxRelay(sf, bootstrap_servers=bootstrap, service="bench", batch_size=1000)
    t0 = time.perf_counter()
    published = 0
    while published < events:
        published += await relay.publish_once()
    publish_s = time.perf_counter() - t0
    await relay.stop()

    # 3. a consumer group applies everything (inbox + handler in one transaction per batch)
    applied = 0
    done = asyncio.Event()
    handlers = HandlerRegistry()

    @handlers.on(ChangeMade)
    async def apply(event: TypedEvent[Any], u: UnitOfWork) -> None:
        nonlocal applied
        applied += 1
        if applied >= events:
            done.set()

    consumer = EventConsumer(
        topics=[topic],
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        bootstrap_servers=bootstrap,
        handlers=handlers,
        uow_factory=uow,
        service="bench",
    )
    t0 = time.perf_counter()
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(done.wait(), timeout=600)
    consume_s = time.perf_counter() - t0
    await consumer.stop()
    task.cancel()

    # 4. end to end with everything running: commit → applied latency
    topic2 = f"bench.{uuid.uuid4().hex[:8]}"
    latencies: list[float] = []
    n2 = max(2000, events // 5)
    seen = 0
    done2 = asyncio.Event()
    handlers2 = HandlerRegistry()

    @handlers2.on(ChangeMade)
    async def apply2(event: TypedEvent[Any], u: UnitOfWork) -> None:
        nonlocal seen
        latencies.append((datetime.now(UTC) - event.envelope.time).total_seconds())
        seen += 1
        if seen >= n2:
            done2.set()

    relay2 = OutboxRelay(sf, bootstrap_servers=bootstrap, service="bench")

    def uow2() -> UnitOfWork:
        return UnitOfWork(sf, source="/svc-bench", topic=topic2, on_commit=relay2.wake)

    consumer2 = EventConsumer(
        topics=[topic2],
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        bootstrap_servers=bootstrap,
        handlers=handlers2,
        uow_factory=uow2,
        service="bench",
    )
    tasks = [asyncio.create_task(relay2.run()), asyncio.create_task(consumer2.run())]
    await asyncio.sleep(3)  # let the consumer join its group before measuring latency
    t0 = time.perf_counter()
    for start in range(10**7, 10**7 + n2, 10):
        await write_changes(uow2(), start, 10, keys=64)
        await asyncio.sleep(0.002)  # a steady trickle, not a burst: this measures latency
    await asyncio.wait_for(done2.wait(), timeout=600)
    e2e_s = time.perf_counter() - t0
    await relay2.stop()
    await consumer2.stop()
    for t in tasks:
        t.cancel()
    await engine.dispose()
    return {
        "events": events,
        "outbox_writes_per_s": round(events / write_s),
        "relay_published_per_s": round(events / publish_s),
        "consumer_applied_per_s": round(events / consume_s),
        "end_to_end_events": n2,
        "end_to_end_throughput_per_s": round(n2 / e2e_s),
        "end_to_end_latency": summary_ms(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--growth", action="store_true", help="also run at tenfold volume")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    with postgres_server() as pg, kafka_broker() as kafka:
        sizes = [args.events, args.events * 10] if args.growth else [args.events]
        for n in sizes:
            url = pg.create_database(f"bench_outbox_{uuid.uuid4().hex[:6]}")
            runs.append(asyncio.run(measure(url, kafka.bootstrap_servers, n)))
    for r in runs:
        lat = r["end_to_end_latency"]
        print_table(
            f"event pipeline on PostgreSQL + Kafka ({r['events']} events)",
            [
                ("outbox writes (change+event, 1 tx)", f"{r['outbox_writes_per_s']:>8} events/s"),
                ("relay → Kafka (acks=all)", f"{r['relay_published_per_s']:>8} events/s"),
                ("consumer (inbox + handler tx)", f"{r['consumer_applied_per_s']:>8} events/s"),
                ("end to end, all running", f"{r['end_to_end_throughput_per_s']:>8} events/s"),
                ("commit → applied latency", f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms"),
            ],
        )
    path = save("outbox", {"runs": runs})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
