"""Event pipeline benchmark: outbox → relay → Apache Kafka → consumer with inbox, on PostgreSQL,
side by side with Kafka's own performance tools on the same broker (the ceiling).

Prints and saves (bench-results/outbox.json), for N events and again for 10·N (tenfold growth):
- outbox writes/s (domain change + event in one transaction, batched 100 per transaction);
- relay publish rate (events/s from a full outbox to Kafka, acks=all);
- consumer apply rate (events/s through inbox dedup + handler transaction);
- end to end at a steady 1,000 events/s for N events, in a database of its own: the writer
  here (each 10-event transaction its own task, on a fixed schedule), the relay and the
  consumer each in its own process (``--worker``; the relay polls only every 2 s, so NOTIFY
  at commit carries events): commit → applied p50/p95/p99, and lost/doubled counted in the
  database;
- the ceiling: ``kafka-producer-perf-test.sh`` (same record count and mean record size, acks=all,
  the relay's linger/batch settings) and ``kafka-consumer-perf-test.sh`` on the records it wrote,
  run from the pinned Kafka jars (``LocalKafka.tool_command``) against the same broker;
- how each figure changes from N to 10·N;
- then faults under that steady load (``--fault-events``, default 30,000): the relay process,
  the consumer process, Kafka and PostgreSQL SIGKILLed in turn and started again; lost/doubled.

N defaults to 10,000 (so 10k and 100k); ``BENCH_SCALE`` multiplies it, ``--events`` sets it.
``BENCH_DEBUG=1`` makes the worker processes print their rounds/polls every 2 s.

    uv run python tests/bench/outbox.py [--events 10000] [--no-growth] [--no-ceiling]
                                        [--no-faults] [--fault-events 30000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
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
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, func, insert, select

from meshkit.db import create_engine, is_infrastructure_error, session_factory
from meshkit.events import TypedEvent
from meshkit.messaging import EventConsumer, HandlerRegistry, OutboxRelay, UnitOfWork, outbox
from meshkit.service import tune_garbage_collector
from meshkit.settings import ServiceSettings
from meshkit_testing.devinfra.kafka import LocalKafka
from meshkit_testing.sample_domain import ChangeMade, changes, create_schema, write_changes

# what the consumer worker records per applied event (lost/doubled counted from it)
bench_meta = MetaData()
bench_applied = Table(
    "bench_applied",
    bench_meta,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("change_id", Integer, nullable=False),  # no unique key: a doubled one is countable
    Column("latency_us", BigInteger, nullable=False),  # from the event's time (before commit)
    Column("applied_us", BigInteger, nullable=False),  # wall clock, µs since the epoch
)

STEADY_RATE = 1_000  # events/s of the end-to-end run
STEADY_PER_TX = 10  # events per writer transaction (one every 10 ms)
RELAY_BATCH = 2_000


def uow_for(sf: Any, topic: str, on_commit: Any = None) -> UnitOfWork:
    return UnitOfWork(sf, source="/svc-bench", topic=topic, on_commit=on_commit)


class BatchingUoW(UnitOfWork):
    """The handler's rows are written in one statement when the batch's transaction commits
    (as a service's repository would batch its writes)."""

    rows: list[dict[str, Any]]

    def init_repositories(self, session: Any) -> None:
        self.rows = []

    async def commit(self) -> None:
        if self.rows:
            await self.session.execute(insert(bench_applied), self.rows)
        await super().commit()


# -- worker processes (the end-to-end and fault runs: relay and consumer each its own process) --
async def _worker(kind: str, url: str, bootstrap: str, topic: str, group: str) -> None:
    engine = create_engine(url, pool_size=10)
    sf = session_factory(engine)
    task: asyncio.Task[None]
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    if kind == "relay":
        # polling every 2 s only as the fallback: wake-ups come from NOTIFY at each commit
        relay = OutboxRelay(
            sf,
            bootstrap_servers=bootstrap,
            service="bench",
            batch_size=RELAY_BATCH,
            poll_interval_s=2.0,
            max_backoff_s=1.0,
        )
        if os.environ.get("BENCH_DEBUG"):
            orig_p = relay.publish_once
            rstats = {"rounds": 0, "rows": 0, "busy": 0.0, "empty": 0}

            async def publish_once() -> int:
                t = time.perf_counter()
                n = await orig_p()
                rstats["rounds"] += 1
                rstats["rows"] += n
                rstats["empty"] += n == 0
                rstats["busy"] += time.perf_counter() - t
                return n

            relay.publish_once = publish_once  # type: ignore[method-assign]

            async def rreport() -> None:
                while True:
                    await asyncio.sleep(2)
                    print("relay", rstats, relay.wakeups_total, flush=True)

            _rreporter = asyncio.create_task(rreport())  # noqa: RUF006
        task = asyncio.create_task(relay.run())
        stop: Any = relay.stop
    else:
        handlers = HandlerRegistry()

        @handlers.on(ChangeMade)
        async def apply(event: TypedEvent[Any], u: BatchingUoW) -> None:
            now = datetime.now(UTC)
            u.rows.append(
                {
                    "change_id": event.data.change_id,
                    "latency_us": int((now - event.envelope.time).total_seconds() * 1e6),
                    "applied_us": int(now.timestamp() * 1e6),
                }
            )

        consumer = EventConsumer(
            topics=[topic],
            group_id=group,
            bootstrap_servers=bootstrap,
            handlers=handlers,
            uow_factory=lambda: BatchingUoW(sf, source="/svc-bench", topic=topic),
            service="bench",
            max_backoff_s=1.0,
        )
        if os.environ.get("BENCH_DEBUG"):
            orig = consumer._fetch
            stats = {"polls": 0, "records": 0, "busy": 0.0}

            async def fetch(timeout_ms: int) -> int:
                t = time.perf_counter()
                n = await orig(timeout_ms)
                if n:
                    stats["polls"] += 1
                    stats["records"] += n
                    stats["busy"] += time.perf_counter() - t
                return n

            consumer._fetch = fetch  # type: ignore[method-assign]

            async def report() -> None:
                while True:
                    await asyncio.sleep(2)
                    print("consumer", stats, flush=True)

            _reporter = asyncio.create_task(report())  # noqa: RUF006
        task = asyncio.create_task(consumer.run())
        stop = consumer.stop
    await stopping.wait()
    await stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await engine.dispose()


class Worker:
    """``outbox.py --worker relay|consumer``: one process, SIGKILLed in the fault run."""

    def __init__(self, kind: str, url: str, bootstrap: str, topic: str, group: str) -> None:
        self.args = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker", kind, "--url", url, "--bootstrap", bootstrap,
            "--topic", topic, "--group", group,
        ]  # fmt: skip
        self.kind = kind
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, cwd=ROOT)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


async def steady_writer(
    sf: Any, topic: str, first_id: int, n: int, *, rate: int = STEADY_RATE
) -> tuple[int, int, dict[int, float]]:
    """``n`` events at ``rate``/s, ``STEADY_PER_TX`` per transaction, on a fixed schedule:
    each transaction is its own task (as concurrent requests of a service are), so a slow
    commit does not delay the next. A failed transaction (PostgreSQL down) is retried until
    it is known committed; returns (transactions retried, seconds taken, and for each
    transaction — by its first change id — the wall-clock time its commit returned)."""
    period = STEADY_PER_TX / rate
    retried = 0
    gate = asyncio.Semaphore(16)
    committed_at: dict[int, float] = {}

    async def committed(start: int) -> bool:
        try:
            async with sf() as s:
                q = select(func.count()).select_from(changes).where(changes.c.id == start)
                return bool((await s.execute(q)).scalar_one())
        except Exception:
            return False

    async def one(start: int) -> None:
        nonlocal retried
        async with gate:
            while True:
                try:
                    await write_changes(uow_for(sf, topic), start, STEADY_PER_TX, keys=64)
                    committed_at[start] = time.time()
                    return
                except Exception as exc:
                    if not is_infrastructure_error(exc):
                        raise
                # the commit may have happened before the connection died: write only if not
                if await committed(start):
                    return
                retried += 1
                await asyncio.sleep(0.2)

    t0 = time.perf_counter()
    tasks = []
    for k, start in enumerate(range(first_id, first_id + n, STEADY_PER_TX)):
        delay = t0 + k * period - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(start)))
    await asyncio.gather(*tasks)
    return retried, round(time.perf_counter() - t0), committed_at


async def _applied_stats(sf: Any, first_id: int, n: int) -> dict[str, Any]:
    async with sf() as s:
        in_range = bench_applied.c.change_id.between(first_id, first_id + n - 1)
        total, distinct = (
            await s.execute(
                select(func.count(), func.count(func.distinct(bench_applied.c.change_id))).where(
                    in_range
                )
            )
        ).one()
        written = (
            await s.execute(
                select(func.count()).where(changes.c.id.between(first_id, first_id + n - 1))
            )
        ).scalar_one()
    return {"written": written, "applied": distinct, "total": total}


async def _wait_applied(sf: Any, first_id: int, n: int, within: float) -> dict[str, Any]:
    deadline = time.perf_counter() + within
    while True:
        try:
            st = await _applied_stats(sf, first_id, n)
            if st["applied"] >= st["written"] > 0 or time.perf_counter() > deadline:
                await asyncio.sleep(1.0)  # let a (wrongly) doubled apply show up
                return await _applied_stats(sf, first_id, n)
        except Exception as exc:
            if not is_infrastructure_error(exc) or time.perf_counter() > deadline:
                raise
        await asyncio.sleep(0.25)


async def _latencies(
    sf: Any, first_id: int, n: int, committed_at: dict[int, float]
) -> tuple[list[float], list[float]]:
    """(commit → applied, event time → applied) of every applied event, in seconds."""
    async with sf() as s:
        rows = await s.execute(
            select(
                bench_applied.c.change_id, bench_applied.c.applied_us, bench_applied.c.latency_us
            ).where(bench_applied.c.change_id.between(first_id, first_id + n - 1))
        )
        from_commit: list[float] = []
        from_event: list[float] = []
        for change_id, applied_us, latency_us in rows.all():
            tx = change_id - (change_id - first_id) % STEADY_PER_TX
            if tx in committed_at:
                from_commit.append(applied_us / 1e6 - committed_at[tx])
            from_event.append(latency_us / 1e6)
        return from_commit, from_event


async def steady_end_to_end(url: str, bootstrap: str, n: int) -> dict[str, Any]:
    """Writer (this process) at a steady 1,000 events/s, relay and consumer each in its own
    process: commit → applied latency of every event, lost and doubled counts."""
    engine = create_engine(url, pool_size=16)
    sf = session_factory(engine)
    topic = f"bench.e2e.{uuid.uuid4().hex[:8]}"
    group = f"bench-e2e-{uuid.uuid4().hex[:6]}"
    workers = [Worker(k, url, bootstrap, topic, group) for k in ("relay", "consumer")]
    first = 10**7
    try:
        for w in workers:
            w.start()
        # warm-up: the topic exists and the consumer has joined its group before measuring
        await write_changes(uow_for(sf, topic), first - 100, 10, keys=10)
        await _wait_applied(sf, first - 100, 10, within=60)
        _, took, committed_at = await steady_writer(sf, topic, first, n)
        stats = await _wait_applied(sf, first, n, within=120)
    finally:
        for w in workers:
            w.stop()
    lat, from_event = await _latencies(sf, first, n, committed_at)
    await engine.dispose()
    return {
        "events": n,
        "rate_per_s": STEADY_RATE,
        "achieved_rate_per_s": round(n / max(took, 1)),
        "latency": summary_ms(lat),
        "latency_from_event_time": summary_ms(from_event),
        "lost": stats["written"] - stats["applied"],
        "doubled": stats["total"] - stats["applied"],
    }


async def faults_under_load(
    url: str, bootstrap: str, kafka: Any, pg: Any, n: int
) -> dict[str, Any]:
    """The steady load while the relay process, the consumer process, Kafka and PostgreSQL are
    SIGKILLed in turn (each started again a moment later): nothing lost, nothing doubled."""
    engine = create_engine(url, pool_size=16)
    sf = session_factory(engine)
    topic = f"bench.faults.{uuid.uuid4().hex[:8]}"
    group = f"bench-faults-{uuid.uuid4().hex[:6]}"
    relay, consumer = (Worker(k, url, bootstrap, topic, group) for k in ("relay", "consumer"))
    first = 2 * 10**7
    injected: list[dict[str, Any]] = []

    async def inject() -> None:
        plan: list[tuple[str, Any, Any]] = [
            ("relay process", relay.kill, relay.start),
            ("consumer process", consumer.kill, consumer.start),
        ]
        if getattr(kafka, "supports_fault_injection", False):
            plan.append(("kafka", kafka.kill, kafka.start))
        if getattr(pg, "supports_fault_injection", False):
            plan.append(("postgresql", pg.kill, pg.start))
        for name, kill, start in plan:
            await asyncio.sleep(2)
            t = time.perf_counter()
            await asyncio.to_thread(kill)
            await asyncio.sleep(1)
            await asyncio.to_thread(start)
            injected.append({"fault": name, "down_s": round(time.perf_counter() - t, 1)})

    try:
        relay.start()
        consumer.start()
        await write_changes(uow_for(sf, topic), first - 100, 10, keys=10)
        await _wait_applied(sf, first - 100, 10, within=60)
        faults = asyncio.create_task(inject())
        retried, took, _ = await steady_writer(sf, topic, first, n)
        await faults
        stats = await _wait_applied(sf, first, n, within=240)
    finally:
        relay.stop()
        consumer.stop()
    await engine.dispose()
    return {
        "events_offered": n,
        "events_committed": stats["written"],
        "writer_tx_retried": retried,
        "faults": injected,
        "applied": stats["applied"],
        "lost": stats["written"] - stats["applied"],
        "doubled": stats["total"] - stats["applied"],
        "seconds": took,
    }


async def measure(pg_url: str, e2e_url: str, bootstrap: str, events: int) -> dict[str, Any]:
    engine = create_engine(pg_url, pool_size=10)
    await create_schema(engine)
    async with engine.begin() as conn:
        await conn.run_sync(bench_meta.create_all)
    sf = session_factory(engine)
    topic = f"bench.{uuid.uuid4().hex[:8]}"

    # 1. writes into the outbox (no relay running)
    t0 = time.perf_counter()
    for start in range(1, events + 1, 100):
        await write_changes(uow_for(sf, topic), start, 100, keys=64)
    write_s = time.perf_counter() - t0
    async with engine.connect() as conn:
        record_bytes = (
            await conn.execute(select(func.avg(func.length(outbox.c.payload))))
        ).scalar_one()

    # 2. relay drains a full outbox
    relay = OutboxRelay(sf, bootstrap_servers=bootstrap, service="bench", batch_size=RELAY_BATCH)
    t0 = time.perf_counter()
    published = 0
    while published < events:  # as the relay's run loop does, back to back
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
        uow_factory=lambda: uow_for(sf, topic),
        service="bench",
    )
    t0 = time.perf_counter()
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(done.wait(), timeout=600)
    consume_s = time.perf_counter() - t0
    await consumer.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await engine.dispose()

    # 4. end to end at a steady 1,000 events/s, relay and consumer in their own processes
    # in a database of its own: the throughput stages above leave 2·N dead row versions
    # whose cleanup (autovacuum) would otherwise run during the steady load's first seconds
    await _create_schema(e2e_url)
    e2e = await steady_end_to_end(e2e_url, bootstrap, events)
    return {
        "events": events,
        "record_bytes_mean": round(float(record_bytes)),
        "outbox_writes_per_s": round(events / write_s),
        "relay_published_per_s": round(events / publish_s),
        "consumer_applied_per_s": round(events / consume_s),
        "end_to_end_events": e2e["events"],
        "end_to_end_throughput_per_s": e2e["achieved_rate_per_s"],
        "end_to_end_latency": e2e["latency"],
        "end_to_end_latency_from_event_time": e2e["latency_from_event_time"],
        "end_to_end_lost": e2e["lost"],
        "end_to_end_doubled": e2e["doubled"],
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
    ev = r["end_to_end_latency_from_event_time"]
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
        ]
    else:
        rows += [
            ("relay → Kafka (acks=all)", f"{r['relay_published_per_s']:>8} events/s"),
            ("consumer (inbox + handler tx)", f"{r['consumer_applied_per_s']:>8} events/s"),
        ]
    ceiling_lat = (
        f" | producer-perf send → ack p50 {c['producer']['latency_ms']['p50']} ms, "
        f"p99 {c['producer']['latency_ms']['p99']} ms (at full speed)"
        if c
        else ""
    )
    rows += [
        (
            f"end to end, steady {STEADY_RATE:,}/s",
            f"{r['end_to_end_events']:,} events at {r['end_to_end_throughput_per_s']}/s, "
            f"relay and consumer each a process; lost {r['end_to_end_lost']}, "
            f"doubled {r['end_to_end_doubled']}",
        ),
        (
            "commit → applied",
            f"p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, p99 {lat['p99_ms']} ms{ceiling_lat}",
        ),
        (
            "event time → applied",
            f"p50 {ev['p50_ms']} ms, p99 {ev['p99_ms']} ms (the event's time is set before its "
            "transaction's inserts and commit)",
        ),
    ]
    print_table(
        f"event pipeline on PostgreSQL + Kafka ({r['events']:,} events of "
        f"~{r['record_bytes_mean']} B)   ours | Kafka's own tools on the same broker (ceiling)",
        [*rows, ("machine", f"{r['cpus']} CPUs, load average {r['load_average']}")],
    )


def _faults_table(f: dict[str, Any]) -> None:
    print_table(
        f"faults under the steady load ({f['events_offered']:,} events at {STEADY_RATE:,}/s)",
        [
            *[(x["fault"], f"SIGKILL, started again after {x['down_s']} s") for x in f["faults"]],
            (
                "result",
                f"{f['events_committed']:,} committed, {f['applied']:,} applied: "
                f"lost {f['lost']}, doubled {f['doubled']} "
                f"(writer transactions retried: {f['writer_tx_retried']})",
            ),
            ("machine", f"load average {f['load_average']}"),
        ],
    )


GROWTH_FIGURES = [
    ("outbox writes", ("outbox_writes_per_s",), "events/s"),
    ("relay → Kafka", ("relay_published_per_s",), "events/s"),
    ("consumer apply", ("consumer_applied_per_s",), "events/s"),
    ("end to end (steady 1,000/s)", ("end_to_end_throughput_per_s",), "events/s"),
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
    parser.add_argument("--no-faults", action="store_true", help="skip the fault run")
    parser.add_argument("--fault-events", type=int, default=None, help="default 30,000 x scale")
    parser.add_argument("--worker", choices=["relay", "consumer"], help=argparse.SUPPRESS)
    for internal in ("--url", "--bootstrap", "--topic", "--group"):
        parser.add_argument(internal, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # the relay and the consumer run as they do in a service process (meshkit.service)
    tune_garbage_collector(ServiceSettings.model_fields["gc_gen0_threshold"].default)
    if args.worker:
        asyncio.run(_worker(args.worker, args.url, args.bootstrap, args.topic, args.group))
        return
    events = args.events or scaled(10_000, minimum=1_000)
    runs: list[dict[str, Any]] = []
    figures: dict[str, Any] = {"runs": runs}
    with postgres_server() as pg, kafka_broker() as kafka:
        # Kafka's tools come from the pinned jars; the broker itself may be external
        tools = kafka if isinstance(kafka, LocalKafka) else LocalKafka(ROOT, data_dir=scratch_dir())
        sizes = [events] if args.no_growth else [events, events * 10]
        for n in sizes:
            print(f"measuring {n:,} events …", flush=True)
            url = pg.create_database(f"bench_outbox_{uuid.uuid4().hex[:6]}")
            e2e_url = pg.create_database(f"bench_e2e_{uuid.uuid4().hex[:6]}")
            run = asyncio.run(measure(url, e2e_url, kafka.bootstrap_servers, n))
            if not args.no_ceiling:
                run["kafka_ceiling"] = kafka_ceiling(
                    tools, kafka.bootstrap_servers, n, run["record_bytes_mean"]
                )
            runs.append(run)
            _side_by_side(run)
        if not args.no_faults:
            n = args.fault_events or scaled(30_000, minimum=5_000)
            print(f"\nfaults under load: {n:,} events …", flush=True)
            url = pg.create_database(f"bench_faults_{uuid.uuid4().hex[:6]}")
            asyncio.run(_create_schema(url))
            f = asyncio.run(faults_under_load(url, kafka.bootstrap_servers, kafka, pg, n))
            f["load_average"] = [round(x, 1) for x in os.getloadavg()]
            figures["faults"] = f
            _faults_table(f)
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


async def _create_schema(url: str) -> None:
    engine = create_engine(url)
    await create_schema(engine)
    async with engine.begin() as conn:
        await conn.run_sync(bench_meta.create_all)
    await engine.dispose()


if __name__ == "__main__":
    main()
