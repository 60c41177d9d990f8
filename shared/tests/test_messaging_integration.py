"""Outbox → Apache Kafka → inbox on PostgreSQL, against a real broker — including a broker
killed with SIGKILL mid-stream. Nothing lost, nothing applied twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from meshkit.db import create_engine, session_factory
from meshkit.events import CloudEvent
from meshkit.messaging import EventConsumer, OutboxRelay, UnitOfWork, inbox, outbox
from meshkit.messaging.kafka import dlq_topic
from meshkit_testing.polling import eventually
from meshkit_testing.sample_domain import (
    ChangeMade,
    applied_counts,
    create_schema,
    handlers_recording,
    write_changes,
)
from meshkit_testing.topics import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.kafka, pytest.mark.postgres]


def make_uow_factory(engine: AsyncEngine, topic: str, relay: OutboxRelay | None = None) -> Any:
    sf = session_factory(engine)
    return lambda: UnitOfWork(
        sf, source="/svc-testsvc", topic=topic, on_commit=relay.wake if relay else None
    )


@pytest.fixture
async def engine(pg_url: str) -> AsyncEngine:
    eng = create_engine(pg_url, pool_size=10)
    await create_schema(eng)
    yield eng  # type: ignore[misc]
    await eng.dispose()


async def test_ten_thousand_changes_survive_a_killed_broker(
    engine: AsyncEngine, kafka: Any, kafka_topic: str
) -> None:
    total, per_tx = 10_000, 10
    sf = session_factory(engine)
    relay = OutboxRelay(sf, bootstrap_servers=kafka.bootstrap_servers, service="testsvc")
    uow_factory = make_uow_factory(engine, kafka_topic, relay)
    consumer = EventConsumer(
        topics=[kafka_topic],
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        bootstrap_servers=kafka.bootstrap_servers,
        handlers=handlers_recording(),
        uow_factory=uow_factory,
        service="testsvc",
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    killed_at_applied = -1
    try:

        async def writer() -> None:
            for start in range(1, total + 1, per_tx):
                await write_changes(uow_factory(), start, per_tx)

        write_task = asyncio.create_task(writer())

        async def some_applied() -> bool:
            return (await applied_counts(engine))[0] >= 2_000

        await eventually(some_applied, within=180, what="2,000 changes applied before the kill")
        killed_at_applied = (await applied_counts(engine))[0]
        kafka.kill()  # SIGKILL, mid-stream: the writer keeps writing to the outbox

        async def relay_noticed() -> bool:
            return not relay.healthy or write_task.done()

        await eventually(relay_noticed, within=60, what="the relay to notice the dead broker")
        kafka.start()
        await write_task

        async def all_applied() -> bool:
            return (await applied_counts(engine))[0] >= total

        await eventually(all_applied, within=300, what=f"all {total} changes applied", interval=0.5)
        # give any redelivery a chance to (wrongly) apply twice before counting for real
        await asyncio.sleep(0)
        consumer_done = consumer.processed_total

        async def quiet() -> bool:
            return await relay.pending_count() == 0

        await eventually(quiet, within=60, what="outbox drained")
    finally:
        await relay.stop()
        await consumer.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    applied_total, applied_distinct = await applied_counts(engine)
    async with engine.connect() as conn:
        inbox_rows = (await conn.execute(select(func.count()).select_from(inbox))).scalar_one()
        unsent = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
    print(
        f"\nkilled broker at {killed_at_applied} applied; applied={applied_total} "
        f"distinct={applied_distinct} inbox={inbox_rows} duplicates_skipped="
        f"{consumer.duplicates_total} processed={consumer_done}"
    )
    assert 0 < killed_at_applied < total, "the broker must die mid-stream"
    assert applied_distinct == total, "an event was lost"
    assert applied_total == total, "an event was applied twice"
    assert inbox_rows == total
    assert unsent == 0


@pytest.mark.parametrize("keys", [13, 400])
async def test_two_relays_never_double_send_and_keep_key_order(
    engine: AsyncEngine, kafka: Any, kafka_topic: str, keys: int
) -> None:
    """Two relays drain one outbox: with 13 keys a batch of 100 holds the earliest rows of
    every key, so the other relay looks past them through its window; with 400 they share."""
    n = 3_000
    sf = session_factory(engine)
    relays = [
        OutboxRelay(
            sf, bootstrap_servers=kafka.bootstrap_servers, service="testsvc", batch_size=100
        )
        for _ in range(2)
    ]
    uow_factory = make_uow_factory(engine, kafka_topic)
    for start in range(1, n + 1, 100):
        await write_changes(uow_factory(), start, 100, keys=keys)
    counts = [0, 0]

    async def drain(i: int) -> None:
        while True:
            got = await relays[i].publish_once()
            counts[i] += got
            if got == 0 and await relays[i].pending_count() == 0:
                return

    await asyncio.gather(drain(0), drain(1))
    for r in relays:
        await r.stop()
    assert sum(counts) == n
    assert min(counts) > 0, f"both relays should have worked, got {counts}"
    records = await read_topic(kafka.bootstrap_servers, kafka_topic, n, within=60)
    ids = [CloudEvent.from_json_bytes(r.value).data["change_id"] for r in records]
    assert len(ids) == n, f"{len(ids) - len(set(ids))} doubled, {n - len(set(ids))} missing"
    assert len(set(ids)) == n
    per_key: dict[str, list[int]] = defaultdict(list)
    for r in records:
        data = CloudEvent.from_json_bytes(r.value).data
        per_key[data["key"]].append(data["seq"])
        assert r.key == data["key"].encode()
    for key, seqs in per_key.items():
        assert seqs == sorted(seqs), f"key {key} out of order"


async def test_failing_handler_goes_to_dead_letter_topic_with_error(
    engine: AsyncEngine, kafka: Any, kafka_topic: str
) -> None:
    sf = session_factory(engine)
    relay = OutboxRelay(sf, bootstrap_servers=kafka.bootstrap_servers, service="testsvc")
    uow_factory = make_uow_factory(engine, kafka_topic, relay)
    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        topics=[kafka_topic],
        group_id=group,
        bootstrap_servers=kafka.bootstrap_servers,
        handlers=handlers_recording(fail_on={3}),
        uow_factory=uow_factory,
        service="testsvc",
        max_attempts=3,
    )
    await write_changes(uow_factory(), 1, 5)
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    try:

        async def four_applied() -> bool:
            return (await applied_counts(engine))[0] == 4 and consumer.dead_lettered_total == 1

        await eventually(four_applied, within=90, what="4 applied and 1 dead-lettered")
    finally:
        await relay.stop()
        await consumer.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    dead = await read_topic(kafka.bootstrap_servers, dlq_topic(kafka_topic, group), 1, within=30)
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert b"cannot apply change 3" in headers["dlq-error"]
    assert headers["dlq-consumer-group"] == group.encode()
    assert headers["dlq-attempts"] == b"3"
    assert CloudEvent.from_json_bytes(dead[0].value).data["change_id"] == 3
    assert ChangeMade.event_type == CloudEvent.from_json_bytes(dead[0].value).type
