"""Wake-on-commit, batch consumption and poison isolation (issue 20), with stand-in Kafka
clients: SQLite for the unit tests, PostgreSQL for LISTEN/NOTIFY across processes."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord, TopicPartition
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from meshkit.db import create_engine, session_factory
from meshkit.events import TypedEvent, build_envelope
from meshkit.messaging import (
    EventConsumer,
    HandlerRegistry,
    OutboxRelay,
    UnitOfWork,
    inbox,
    outbox,
    outbox_journal,
    outbox_sent,
)
from meshkit_testing.polling import eventually
from meshkit_testing.sample_domain import (
    ChangeMade,
    applied,
    create_schema,
    handlers_recording,
    write_changes,
)

SLOW_POLL_S = 600.0  # a relay that only polled would not publish within any test's patience


class RecordingProducer:
    """Stands in for AIOKafkaProducer (no batch API: the relay falls back to ``send``)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.arrived = asyncio.Event()

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, value: bytes, key: bytes | None, headers: Any) -> Any:
        self.sent.append((topic, key, value))
        self.arrived.set()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    async def send_and_wait(
        self, topic: str, value: bytes, key: bytes | None, headers: Any
    ) -> None:
        self.sent.append((topic, key, value))


class StubConsumer:
    """Stands in for AIOKafkaConsumer: hands out the given polls, records offset commits and
    which partitions are paused."""

    def __init__(self, polls: list[dict[TopicPartition, list[Any]]]) -> None:
        self.polls = polls
        self.committed: list[dict[TopicPartition, int]] = []
        self.paused: set[TopicPartition] = set()
        self.pauses: list[TopicPartition] = []
        self.resumes: list[TopicPartition] = []

    def assignment(self) -> set[TopicPartition]:
        return {tp for poll in self.polls for tp in poll} | self.paused | set(self.resumes)

    def pause(self, *tps: TopicPartition) -> None:
        self.paused.update(tps)
        self.pauses.extend(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused.difference_update(tps)
        self.resumes.extend(tps)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def getmany(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Any]]:
        return self.polls.pop(0) if self.polls else {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.append(dict(offsets))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncEngine:
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path}/svc.db")
    await create_schema(eng)
    yield eng  # type: ignore[misc]
    await eng.dispose()


def record(change_id: int, key: str, seq: int, *, partition: int, offset: int) -> Any:
    value = build_envelope(
        ChangeMade(change_id=change_id, key=key, seq=seq), source="/svc-testsvc", subject=key
    ).to_json_bytes()
    return ConsumerRecord(
        "egov.testsvc", partition, offset, 0, 0, key.encode(), value, None, len(key), len(value), []
    )


def consumer_for(
    engine: AsyncEngine,
    handlers: HandlerRegistry,
    stub: StubConsumer,
    dlq: RecordingProducer,
    *,
    max_batch: int = 2000,
) -> EventConsumer:
    sf = session_factory(engine)
    c = EventConsumer(
        topics=["egov.testsvc"],
        group_id="g-batches",
        bootstrap_servers="unused:9092",
        handlers=handlers,
        uow_factory=lambda: UnitOfWork(sf, source="/svc-testsvc", topic="egov.testsvc"),
        service="testsvc",
        max_attempts=2,
        max_backoff_s=0.01,
        max_batch=max_batch,
        consumer_factory=lambda: stub,  # type: ignore[arg-type,return-value]
        producer_factory=lambda: dlq,  # type: ignore[arg-type,return-value]
    )
    return c


async def applied_rows(engine: AsyncEngine) -> list[tuple[int, str, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(applied.c.change_id, applied.c.key, applied.c.seq))
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


# -- wake-up on commit ---------------------------------------------------------------------
async def test_commit_wakes_the_relay_of_its_process_without_waiting_for_the_poll(
    engine: AsyncEngine,
) -> None:
    producer = RecordingProducer()
    sf = session_factory(engine)
    relay = OutboxRelay(
        sf,
        bootstrap_servers="unused:1",
        service="testsvc",
        poll_interval_s=SLOW_POLL_S,
        producer_factory=lambda: producer,  # type: ignore[arg-type,return-value]
    )

    async def idle() -> bool:  # the relay found nothing and waits for the next poll
        return relay.waiting

    task = asyncio.create_task(relay.run())
    try:
        await eventually(idle, within=5, what="the relay idle")
        assert producer.sent == []
        started = time.perf_counter()
        uow = UnitOfWork(sf, source="/svc-testsvc", topic="egov.testsvc", on_commit=relay.wake)
        await write_changes(uow, 1, 3)
        await asyncio.wait_for(producer.arrived.wait(), timeout=5)

        async def all_published() -> bool:
            return await relay.pending_count() == 0

        await eventually(all_published, within=5, what="the outbox emptied")
        assert time.perf_counter() - started < 5 < SLOW_POLL_S
        assert len(producer.sent) == 3
    finally:
        await relay.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# -- batches ------------------------------------------------------------------------------
async def test_batch_keeps_per_key_order_and_a_redelivered_batch_is_a_no_op(
    engine: AsyncEngine,
) -> None:
    seen: list[tuple[str, int]] = []
    reg = handlers_recording()

    @reg.on(ChangeMade)
    async def remember(event: TypedEvent[Any], uow: UnitOfWork) -> None:
        seen.append((event.data.key, event.data.seq))

    # two partitions, three keys each, one poll; then the same poll again (a rebalance)
    batch: dict[TopicPartition, list[Any]] = defaultdict(list)
    offsets = [0, 0]
    for i in range(1, 61):
        p = i % 2
        batch[TopicPartition("egov.testsvc", p)].append(
            record(i, f"k{i % 6}", i, partition=p, offset=offsets[p])
        )
        offsets[p] += 1
    stub = StubConsumer([dict(batch), dict(batch)])
    consumer = consumer_for(engine, reg, stub, RecordingProducer())
    assert await consumer.poll_once() == 60
    assert await consumer.poll_once() == 60
    rows = await applied_rows(engine)
    assert sorted(r[0] for r in rows) == list(range(1, 61)), "each event applied exactly once"
    per_key: dict[str, list[int]] = defaultdict(list)
    for key, seq in seen:
        per_key[key].append(seq)
    assert all(seqs == sorted(seqs) for seqs in per_key.values()), per_key
    assert consumer.processed_total == 60 and consumer.duplicates_total == 60
    # each partition's offset committed (by its own lane) past its last record
    last: dict[TopicPartition, int] = {}
    for offsets in stub.committed:
        last.update(offsets)
    assert last == {
        TopicPartition("egov.testsvc", 0): 30,
        TopicPartition("egov.testsvc", 1): 30,
    }
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(inbox))).scalar_one() == 60


async def test_an_event_already_in_the_inbox_is_skipped_inside_a_batch(
    engine: AsyncEngine,
) -> None:
    reg = handlers_recording()
    tp = TopicPartition("egov.testsvc", 0)
    first = [record(i, "k", i, partition=0, offset=i) for i in range(5)]
    stub = StubConsumer([{tp: first[:2]}, {tp: first}])  # the second poll overlaps the first
    consumer = consumer_for(engine, reg, stub, RecordingProducer())
    await consumer.poll_once()
    await consumer.poll_once()
    assert sorted(r[0] for r in await applied_rows(engine)) == [0, 1, 2, 3, 4]
    assert consumer.duplicates_total == 2


async def test_a_poison_event_is_isolated_and_the_rest_of_its_batch_applied_once(
    engine: AsyncEngine,
) -> None:
    reg = handlers_recording(fail_on={3})
    tp = TopicPartition("egov.testsvc", 0)
    records = [record(i, f"k{i % 2}", i, partition=0, offset=i) for i in range(1, 7)]
    dlq = RecordingProducer()
    stub = StubConsumer([{tp: records}])
    consumer = consumer_for(engine, reg, stub, dlq)
    await consumer.poll_once()
    assert sorted(r[0] for r in await applied_rows(engine)) == [1, 2, 4, 5, 6]
    assert consumer.dead_lettered_total == 1
    assert len(dlq.sent) == 1 and dlq.sent[0][0] == "egov.testsvc.dlq.g-batches"
    assert stub.committed == [{tp: 7}]  # the batch is done: the poison does not block it


async def test_a_handler_writing_rows_sees_them_in_the_batch_transaction(
    engine: AsyncEngine,
) -> None:
    """Handlers of one batch share its transaction: a later event sees an earlier one's rows."""
    reg = HandlerRegistry()
    counts: list[int] = []

    @reg.on(ChangeMade)
    async def count_then_insert(event: TypedEvent[Any], uow: UnitOfWork) -> None:
        n = (await uow.session.execute(select(func.count()).select_from(applied))).scalar_one()
        counts.append(int(n))
        await uow.session.execute(
            insert(applied).values(change_id=event.data.change_id, key="k", seq=event.data.seq)
        )

    tp = TopicPartition("egov.testsvc", 0)
    stub = StubConsumer([{tp: [record(i, "k", i, partition=0, offset=i) for i in range(4)]}])
    await consumer_for(engine, reg, stub, RecordingProducer()).poll_once()
    assert counts == [0, 1, 2, 3]


# -- LISTEN/NOTIFY across processes (PostgreSQL) -------------------------------------------
@pytest.mark.integration
@pytest.mark.postgres
async def test_a_commit_in_another_process_wakes_the_relay_through_notify(pg_url: str) -> None:
    """No ``on_commit`` hook (the writer could be another process): PostgreSQL's NOTIFY at
    commit wakes the relay long before its poll interval."""
    eng = create_engine(pg_url)
    await create_schema(eng)
    producer = RecordingProducer()
    relay = OutboxRelay(
        session_factory(eng),
        bootstrap_servers="unused:1",
        service="testsvc",
        poll_interval_s=SLOW_POLL_S,
        producer_factory=lambda: producer,  # type: ignore[arg-type,return-value]
    )

    async def listening_and_idle() -> bool:
        # the round the LISTEN connection asked for is done and the relay waits again:
        # what publishes the rows below can only be the writer's NOTIFY
        return relay.listening and relay.wakeups_total >= 1 and relay.waiting

    task = asyncio.create_task(relay.run())
    writer = create_engine(pg_url)  # its own engine and pool: as another process would
    try:
        await eventually(listening_and_idle, within=5, what="the relay LISTENing and idle")
        assert producer.sent == []
        started = time.perf_counter()
        uow = UnitOfWork(session_factory(writer), source="/svc-testsvc", topic="egov.testsvc")
        await write_changes(uow, 1, 2)
        await asyncio.wait_for(producer.arrived.wait(), timeout=5)
        assert time.perf_counter() - started < 5 < SLOW_POLL_S
    finally:
        await relay.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await writer.dispose()
        await eng.dispose()


# -- a published batch moves to outbox_sent, and only once Kafka has it (PostgreSQL) ----------
def sent_changes(producer: RecordingProducer) -> list[tuple[str, int]]:
    """(key, seq) of every record the relay sent, in the order it sent them."""
    out = []
    for _topic, _key, value in producer.sent:
        data = json.loads(value)["data"]
        out.append((data["key"], data["seq"]))
    return out


def first_deliveries_in_order(sent: list[tuple[str, int]]) -> bool:
    seen: set[tuple[str, int]] = set()
    per_key: dict[str, list[int]] = defaultdict(list)
    for key, seq in sent:
        if (key, seq) not in seen:
            seen.add((key, seq))
            per_key[key].append(seq)
    return all(seqs == sorted(seqs) for seqs in per_key.values())


@pytest.fixture
async def twelve_changes(pg_url: str) -> Any:
    """A relay of batches of 5 (stand-in producer) over an outbox of 12 changes of 3 keys."""
    eng = create_engine(pg_url)
    await create_schema(eng)
    sf = session_factory(eng)
    producer = RecordingProducer()
    relay = OutboxRelay(
        sf,
        bootstrap_servers="unused:1",
        service="testsvc",
        batch_size=5,
        producer_factory=lambda: producer,
        listen=False,
    )
    await write_changes(UnitOfWork(sf, source="/svc-testsvc", topic="egov.testsvc"), 1, 12, keys=3)
    yield relay, producer
    await relay.stop()
    await eng.dispose()


@pytest.mark.integration
@pytest.mark.postgres
async def test_a_published_batch_leaves_the_outbox_for_outbox_sent_in_one_commit(
    twelve_changes: tuple[OutboxRelay, RecordingProducer], pg_url: str
) -> None:
    """The rows Kafka acknowledged move, with their payload and the time they were sent; the
    outbox keeps only what is still to go, and the journal still shows every event once."""
    relay, producer = twelve_changes
    eng = create_engine(pg_url)
    try:
        assert await relay.publish_once() == 5
        async with eng.connect() as conn:
            left = (await conn.execute(select(outbox.c.id).order_by(outbox.c.id))).scalars()
            moved = (await conn.execute(select(outbox_sent).order_by(outbox_sent.c.id))).all()
        assert list(left) == list(range(6, 13))
        assert [r.id for r in moved] == [1, 2, 3, 4, 5]
        assert [r.payload for r in moved] == [v for _, _, v in producer.sent]
        assert all(r.sent_at is not None and r.attempts == 1 for r in moved)
        while await relay.publish_once():
            pass
        journal = outbox_journal()
        async with eng.connect() as conn:
            outbox_left = (await conn.execute(select(func.count()).select_from(outbox))).scalar()
            ids = (await conn.execute(select(journal.c.id).order_by(journal.c.id))).scalars()
            assert list(ids) == list(range(1, 13))
        assert outbox_left == 0
    finally:
        await eng.dispose()


@pytest.mark.integration
@pytest.mark.postgres
async def test_a_batch_whose_mark_fails_is_sent_again_and_nothing_is_lost(
    twelve_changes: tuple[OutboxRelay, RecordingProducer],
) -> None:
    """Kafka has the batch but its rows cannot be moved: the transaction rolls back, the
    rows stay in the outbox and go again (a duplicate the consumers' inbox drops)."""
    relay, producer = twelve_changes
    marking = relay._move_sent
    failures = [RuntimeError("the database went away")]

    async def failing_once(session: Any, ids: list[int]) -> None:
        if failures:
            raise failures.pop()
        await marking(session, ids)

    relay._move_sent = failing_once  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await relay.publish_once()
    assert await relay.pending_count() == 12
    while await relay.publish_once():
        pass
    assert await relay.pending_count() == 0
    sent = sent_changes(producer)
    assert sorted(set(sent), key=lambda c: c[1]) == [(f"k{i % 3}", i) for i in range(1, 13)]
    assert len(sent) == 12 + 5  # the batch whose mark failed went twice
    assert first_deliveries_in_order(sent)


def gated_handlers(gate: asyncio.Event, seen: list[int]) -> HandlerRegistry:
    """Records each change id, and holds every event until ``gate`` opens."""
    reg = HandlerRegistry()

    @reg.on(ChangeMade)
    async def apply_change(event: TypedEvent[Any], uow: UnitOfWork) -> None:
        await gate.wait()
        seen.append(event.data.change_id)
        await uow.session.execute(
            insert(applied).values(
                change_id=event.data.change_id, key=event.data.key, seq=event.data.seq
            )
        )

    return reg


async def test_a_partition_that_falls_behind_is_paused_until_its_lane_catches_up(
    engine: AsyncEngine,
) -> None:
    """Fetching outruns applying: the partition stops being fetched at 4 x max_batch waiting
    records (memory stays bounded) and is fetched again once half of them are applied; every
    record is still applied once, in offset order, and its offset committed."""
    gate = asyncio.Event()
    seen: list[int] = []
    tp = TopicPartition("egov.testsvc", 0)
    records = [record(i, "k", i, partition=0, offset=i) for i in range(12)]
    stub = StubConsumer([{tp: records[:6]}, {tp: records[6:]}])
    consumer = consumer_for(
        engine, gated_handlers(gate, seen), stub, RecordingProducer(), max_batch=2
    )
    assert await consumer._fetch(timeout_ms=0) == 6
    assert stub.pauses == []  # 6 waiting < 4 x 2
    assert await consumer._fetch(timeout_ms=0) == 6
    assert stub.pauses == [tp] and tp in stub.paused  # 12 waiting >= 8
    gate.set()
    await asyncio.wait_for(consumer.drained(), timeout=30)
    assert stub.resumes == [tp] and not stub.paused
    assert seen == list(range(12))  # once each, in offset order
    assert stub.committed[-1] == {tp: 12}
    assert [c[tp] for c in stub.committed] == sorted(c[tp] for c in stub.committed)


async def test_partitions_are_applied_concurrently(pg_url: str) -> None:
    """A slow partition does not hold up the others: partition 0's only event waits until
    partition 1's has been applied and committed — applied one partition after the other,
    this would never finish."""
    eng = create_engine(pg_url)
    await create_schema(eng)
    p0, p1 = TopicPartition("egov.testsvc", 0), TopicPartition("egov.testsvc", 1)
    p1_applied = asyncio.Event()
    order: list[str] = []
    reg = HandlerRegistry()

    @reg.on(ChangeMade)
    async def apply_change(event: TypedEvent[Any], uow: UnitOfWork) -> None:
        if event.data.key == "slow":
            await p1_applied.wait()
        order.append(event.data.key)

    stub = StubConsumer(
        [
            {
                p0: [record(1, "slow", 1, partition=0, offset=0)],
                p1: [record(2, "fast", 1, partition=1, offset=0)],
            }
        ]
    )
    consumer = consumer_for(eng, reg, stub, RecordingProducer())
    try:
        assert await consumer._fetch(timeout_ms=0) == 2

        async def partition_1_committed() -> bool:
            return stub.committed == [{p1: 1}]

        await eventually(partition_1_committed, within=30, what="partition 1 to be committed")
        assert order == ["fast"]  # partition 1 done while partition 0 is still in its handler
        p1_applied.set()
        await asyncio.wait_for(consumer.drained(), timeout=30)
        assert order == ["fast", "slow"] and stub.committed[-1] == {p0: 1}
        assert consumer.processed_total == 2
    finally:
        await consumer.stop()
        await eng.dispose()
