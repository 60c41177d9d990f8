"""Event pipeline benchmark: outbox → relay → Apache Kafka → consumer with inbox, on PostgreSQL,
side by side with Kafka's own performance tools on the same broker (the ceiling).

Prints and saves (bench-results/outbox.json), for N events and again for 10·N (tenfold growth):
- outbox writes/s (domain change + event in one transaction, batched 100 per transaction);
- relay publish rate (events/s from a full outbox to Kafka, acks=all);
- consumer apply rate (events/s through inbox dedup + handler transaction);
- end-to-end latency (commit → applied) p50/p99 with writer, relay and consumer running together;
- the ceiling: ``kafka-producer-perf-test.sh`` (same record count and mean record size, acks=all,
  the relay's linger/batch settings) and ``kafka-consumer-perf-test.sh`` on the records it wrote,
  run from the pinned Kafka jars (``LocalKafka.tool_command``) against the same broker;
- how each figure changes from N to 10·N.

N defaults to 10,000 (so 10k and 100k); ``BENCH_SCALE`` multiplies it, ``--events`` sets it.

    uv run python tests/bench/outbox.py [--events 10000] [--no-growth] [--no-ceiling]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    growth_table,
    kafka_broker,
    postgres_server,
    print_table,
    save,
    scaled,
    scratch_dir,
    summary_ms,
)
from sqlalchemy import func, select

from meshkit.db import create_engine, session_factory
from meshkit.devinfra.kafka import LocalKafka
from meshkit.events import TypedEvent
from meshkit.messaging import EventConsumer, HandlerRegistry, OutboxRelay, UnitOfWork, outbox
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
    async with engine.connect() as conn:
        record_bytes = (
            await conn.execute(select(func.avg(func.length(outbox.c.payload))))
        ).scalar_one()

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
    n2 = max(1_000, events // 10)  # tenfold with the volume, a steady trickle
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
        "record_bytes_mean": round(float(record_bytes)),
        "outbox_writes_per_s": round(events / write_s),
        "relay_published_per_s": round(events / publish_s),
        "consumer_applied_per_s": round(events / consume_s),
        "end_to_end_events": n2,
        "end_to_end_throughput_per_s": round(n2 / e2e_s),
        "end_to_end_latency": summary_ms(latencies),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


PRODUCER_LINE = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \((?P<mb>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th"
)


def _run_tool(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-12:])} failed: {(proc.stdout + proc.stderr)[-2000:]}")
    return proc.stdout


def kafka_ceiling(
    tools: LocalKafka, bootstrap: str, events: int, record_size: int
) -> dict[str, Any]:
    """Kafka's own producer and consumer performance tools: same broker, record count and size."""
    topic = f"bench.ceiling.{uuid.uuid4().hex[:8]}"
    out = _run_tool(
        tools.tool_command(
            "kafka-producer-perf-test.sh",
            "--topic", topic,
            "--num-records", str(events),
            "--record-size", str(record_size),
            "--throughput", "-1",
            "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all", "linger.ms=5",
            "batch.size=262144",
        )
    )  # fmt: skip
    final = [m for m in PRODUCER_LINE.finditer(out)]
    if not final:
        raise RuntimeError(f"unexpected kafka-producer-perf-test output:\n{out[-2000:]}")
    m = final[-1]
    producer = {
        "records": int(m["records"]),
        "events_per_s": round(float(m["rate"])),
        "mb_per_s": float(m["mb"]),
        "latency_ms": {
            "avg": float(m["avg"]),
            "p50": int(m["p50"]),
            "p95": int(m["p95"]),
            "p99": int(m["p99"]),
            "p99_9": int(m["p999"]),
            "max": float(m["max"]),
        },
    }
    out = _run_tool(
        tools.tool_command(
            "kafka-consumer-perf-test.sh",
            "--bootstrap-server", bootstrap,
            "--topic", topic,
            "--num-records", str(events),
            "--group", f"bench-ceiling-{uuid.uuid4().hex[:6]}",
            "--timeout", "120000",
        )
    )  # fmt: skip
    lines = [ln for ln in out.splitlines() if ln.strip()]
    header = next(i for i, ln in enumerate(lines) if ln.startswith("start.time"))
    stats = dict(
        zip(
            [h.strip() for h in lines[header].split(",")],
            [v.strip() for v in lines[header + 1].split(",")],
            strict=False,
        )
    )
    consumer = {
        "records": int(stats["data.consumed.in.nMsg"]),
        "events_per_s": round(float(stats["nMsg.sec"])),
        "fetch_events_per_s": round(float(stats["fetch.nMsg.sec"])),
        "rebalance_ms": int(stats["rebalance.time.ms"]),
    }
    return {"record_size": record_size, "producer": producer, "consumer": consumer}


def _side_by_side(r: dict[str, Any]) -> None:
    lat = r["end_to_end_latency"]
    c = r.get("kafka_ceiling")
    rows: list[tuple[str, str]] = [
        ("outbox writes (change+event, 1 tx)", f"{r['outbox_writes_per_s']:>8} events/s"),
    ]
    if c:
        p, k = c["producer"], c["consumer"]
        rows += [
            (
                "relay → Kafka (acks=all)",
                f"{r['relay_published_per_s']:>8} events/s   | kafka-producer-perf-test "
                f"{p['events_per_s']:>8} events/s ({r['relay_published_per_s'] / p['events_per_s']:.0%})",
            ),
            (
                "consumer (inbox + handler tx)",
                f"{r['consumer_applied_per_s']:>8} events/s   | kafka-consumer-perf-test "
                f"{k['events_per_s']:>8} events/s ({r['consumer_applied_per_s'] / k['events_per_s']:.0%}; "
                f"fetch only {k['fetch_events_per_s']}/s)",
            ),
            ("end to end, all running", f"{r['end_to_end_throughput_per_s']:>8} events/s"),
            (
                "latency p99",
                f"commit → applied {lat['p99_ms']} ms (p50 {lat['p50_ms']})"
                f" | producer-perf send → ack p99 {p['latency_ms']['p99']} ms "
                f"(p50 {p['latency_ms']['p50']}, at full speed)",
            ),
        ]
    else:
        rows += [
            ("relay → Kafka (acks=all)", f"{r['relay_published_per_s']:>8} events/s"),
            ("consumer (inbox + handler tx)", f"{r['consumer_applied_per_s']:>8} events/s"),
            ("end to end, all running", f"{r['end_to_end_throughput_per_s']:>8} events/s"),
            ("commit → applied latency", f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms"),
        ]
    print_table(
        f"event pipeline on PostgreSQL + Kafka ({r['events']:,} events of "
        f"~{r['record_bytes_mean']} B)   ours | Kafka's own tools on the same broker (ceiling)",
        [*rows, ("machine", f"{r['cpus']} CPUs, load average {r['load_average']}")],
    )


GROWTH_FIGURES = [
    ("outbox writes", ("outbox_writes_per_s",), "events/s"),
    ("relay → Kafka", ("relay_published_per_s",), "events/s"),
    ("consumer apply", ("consumer_applied_per_s",), "events/s"),
    ("end to end throughput", ("end_to_end_throughput_per_s",), "events/s"),
    ("commit → applied p50", ("end_to_end_latency", "p50_ms"), "ms"),
    ("commit → applied p99", ("end_to_end_latency", "p99_ms"), "ms"),
]
CEILING_FIGURES = [
    ("producer-perf", ("kafka_ceiling", "producer", "events_per_s"), "events/s"),
    ("producer-perf ack p99", ("kafka_ceiling", "producer", "latency_ms", "p99"), "ms"),
    ("consumer-perf", ("kafka_ceiling", "consumer", "events_per_s"), "events/s"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=None, help="N (default 10,000 x BENCH_SCALE)")
    parser.add_argument("--no-growth", action="store_true", help="skip the tenfold run")
    parser.add_argument("--no-ceiling", action="store_true", help="skip Kafka's perf tools")
    args = parser.parse_args()
    events = args.events or scaled(10_000, minimum=1_000)
    runs: list[dict[str, Any]] = []
    with postgres_server() as pg, kafka_broker() as kafka:
        # Kafka's tools come from the pinned jars; the broker itself may be external
        tools = kafka if isinstance(kafka, LocalKafka) else LocalKafka(ROOT, data_dir=scratch_dir())
        sizes = [events] if args.no_growth else [events, events * 10]
        for n in sizes:
            print(f"measuring {n:,} events …", flush=True)
            url = pg.create_database(f"bench_outbox_{uuid.uuid4().hex[:6]}")
            run = asyncio.run(measure(url, kafka.bootstrap_servers, n))
            if not args.no_ceiling:
                run["kafka_ceiling"] = kafka_ceiling(
                    tools, kafka.bootstrap_servers, n, run["record_bytes_mean"]
                )
            runs.append(run)
            _side_by_side(run)
    figures: dict[str, Any] = {"runs": runs}
    if len(runs) == 2:
        small, big = runs
        figures["growth"] = growth_table(
            f"event pipeline: {small['events']:,} → {big['events']:,} events (tenfold)",
            small,
            big,
            GROWTH_FIGURES + ([] if args.no_ceiling else CEILING_FIGURES),
        )
    path = save("outbox", figures)
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
