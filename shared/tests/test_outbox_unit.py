"""Outbox and unit of work on SQLite, with a stand-in producer (unit tests of one module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from meshkit.db import create_engine, session_factory
from meshkit.events import CloudEvent
from meshkit.messaging import OutboxRelay, UnitOfWork, outbox, outbox_journal, outbox_sent
from meshkit_testing.sample_domain import ChangeMade, changes, create_schema, write_changes


class RecordingProducer:
    """Stands in for AIOKafkaProducer: records sends; can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.fail = False

    async def start(self) -> None:
        if self.fail:
            raise ConnectionError("broker down")

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, value: bytes, key: bytes | None, headers: Any) -> Any:
        if self.fail:
            raise ConnectionError("broker down")
        self.sent.append((topic, key, value))
        import asyncio

        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncEngine:
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path}/svc.db")
    await create_schema(eng)
    return eng


def uow_for(engine: AsyncEngine, woke: list[int] | None = None) -> UnitOfWork:
    return UnitOfWork(
        session_factory(engine),
        source="/svc-testsvc",
        topic="egov.testsvc",
        on_commit=(lambda: woke.append(1)) if woke is not None else None,
    )


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_commit_writes_change_and_events_together(engine: AsyncEngine) -> None:
    woke: list[int] = []
    await write_changes(uow_for(engine, woke), 1, 3)
    assert await count(engine, changes) == 3
    assert await count(engine, outbox) == 3
    assert woke == [1]
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).all()
    env = CloudEvent.from_json_bytes(rows[0].payload)
    assert env.type == ChangeMade.event_type and env.source == "/svc-testsvc"
    assert rows[0].message_key == "k1" and rows[0].topic == "egov.testsvc"


async def test_no_commit_means_no_change_and_no_event(engine: AsyncEngine) -> None:
    uow = uow_for(engine)
    with pytest.raises(RuntimeError):
        async with uow:
            uow.emit(ChangeMade(change_id=1, key="k", seq=1), subject="k")
            raise RuntimeError("handler failed half way")
    async with uow_for(engine) as uow2:
        uow2.emit(ChangeMade(change_id=2, key="k", seq=2), subject="k")
        # leaving without commit
    assert await count(engine, outbox) == 0


async def test_relay_publishes_in_order_and_empties_the_outbox(engine: AsyncEngine) -> None:
    await write_changes(uow_for(engine), 1, 120, keys=7)
    producer = RecordingProducer()
    relay = OutboxRelay(
        session_factory(engine),
        bootstrap_servers="unused:1",
        service="testsvc",
        batch_size=50,
        producer_factory=lambda: producer,  # type: ignore[arg-type,return-value]
    )
    total = 0
    while n := await relay.publish_once():
        total += n
    assert total == 120
    seqs = [CloudEvent.from_json_bytes(v).data["seq"] for _, _, v in producer.sent]
    assert seqs == list(range(1, 121))
    assert await relay.pending_count() == 0


async def test_published_events_move_to_outbox_sent_and_ids_never_come_back(
    engine: AsyncEngine,
) -> None:
    """On SQLite too: the outbox empties as the relay publishes, and the next event gets a
    new id (without AUTOINCREMENT, SQLite would hand out the moved rows' ids again and the
    journal's order would lie)."""
    await write_changes(uow_for(engine), 1, 3)
    producer = RecordingProducer()
    relay = OutboxRelay(
        session_factory(engine),
        bootstrap_servers="unused:1",
        service="testsvc",
        producer_factory=lambda: producer,  # type: ignore[arg-type,return-value]
    )
    assert await relay.publish_once() == 3
    assert await count(engine, outbox) == 0
    assert await count(engine, outbox_sent) == 3
    await write_changes(uow_for(engine), 4, 2)
    async with engine.connect() as conn:
        ids = (await conn.execute(select(outbox.c.id).order_by(outbox.c.id))).scalars()
        assert list(ids) == [4, 5]
    assert await relay.publish_once() == 2
    journal = outbox_journal()
    async with engine.connect() as conn:
        rows = (await conn.execute(select(journal).order_by(journal.c.id))).all()
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert [CloudEvent.from_json_bytes(r.payload).data["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(r.sent_at is not None for r in rows)


async def test_relay_keeps_rows_when_broker_is_down(engine: AsyncEngine) -> None:
    await write_changes(uow_for(engine), 1, 10)
    producer = RecordingProducer()
    producer.fail = True
    relay = OutboxRelay(
        session_factory(engine),
        bootstrap_servers="unused:1",
        service="testsvc",
        producer_factory=lambda: producer,  # type: ignore[arg-type,return-value]
    )
    with pytest.raises(ConnectionError):
        await relay.publish_once()
    assert await relay.pending_count() == 10
    producer.fail = False
    relay._producer = None
    assert await relay.publish_once() == 10
    assert await relay.pending_count() == 0


class CommittingConsumer:
    """Stands in for AIOKafkaConsumer where the consumer commits offsets."""

    def __init__(self) -> None:
        self.committed: list[Any] = []

    async def commit(self, offsets: Any) -> None:
        self.committed.append(offsets)


async def test_a_redelivered_event_counts_as_duplicate_not_as_consumed(
    engine: AsyncEngine,
) -> None:
    from aiokafka.structs import ConsumerRecord, TopicPartition

    from meshkit.events import build_envelope
    from meshkit.messaging import EventConsumer
    from meshkit.observability import metrics
    from meshkit_testing.sample_domain import applied, handlers_recording

    consumer = EventConsumer(
        topics=["egov.testsvc"],
        group_id="g-unit",
        bootstrap_servers="unused:9092",
        handlers=handlers_recording(),
        uow_factory=lambda: uow_for(engine),
        service="svc-metrics-unit",
    )
    consumer._consumer = CommittingConsumer()  # type: ignore[assignment]
    value = build_envelope(
        ChangeMade(change_id=7, key="k", seq=7), source="/svc-testsvc", subject="k"
    ).to_json_bytes()
    record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
        "egov.testsvc", 0, 41, 0, 0, b"k", value, None, len(b"k"), len(value), []
    )
    tp = TopicPartition("egov.testsvc", 0)
    consumed = metrics.EVENTS_CONSUMED.labels("svc-metrics-unit", ChangeMade.event_type)
    duplicate = metrics.EVENTS_DUPLICATE.labels("svc-metrics-unit", ChangeMade.event_type)
    for _ in range(2):  # the second delivery is what a rebalance or a restart redelivers
        await consumer._handle_partition_batch(tp, [record])
    assert await count(engine, applied) == 1
    assert consumer.processed_total == 1 and consumer.duplicates_total == 1
    assert consumed._value.get() == 1, "a duplicate was counted as consumed"
    assert duplicate._value.get() == 1
