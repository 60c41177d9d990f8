"""Idempotent event consumer (inbox pattern) on aiokafka.

Each assigned partition has a *lane*: a task that applies that partition's records strictly
in offset order (one key lives in one partition, so per-key order holds), while the poll
loop keeps fetching — the next batch is fetched and parsed while the database commits the
previous one, and partitions are applied concurrently. A lane takes what has queued up (up
to ``max_batch``) and, in one database transaction, skips events whose id the inbox already
holds for this consumer group, runs the handlers of the others and records all their ids in
one insert; commits; only then commits the partition's Kafka offset. A crash anywhere means
redelivery, and redelivery is a no-op. A lane that falls behind pauses its partition's
fetching; a revoked partition's lane finishes its transaction before the rebalance goes on.

A handler failure rolls the batch back and the batch is applied again one event per
transaction, so a poison event neither blocks nor doubles the others; an event whose
handler keeps failing goes to the dead letter topic ``<topic>.dlq.<group>`` with the error
attached. Infrastructure failures (database unreachable) are retried without limit instead
— they are not the event's fault.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from meshkit import context
from meshkit.db import is_infrastructure_error
from meshkit.events import CloudEvent, TypedEvent, try_parse_envelope
from meshkit.messaging.handlers import HandlerRegistry
from meshkit.messaging.kafka import close_client, dlq_topic, make_consumer, make_producer
from meshkit.messaging.tables import inbox
from meshkit.messaging.uow import UnitOfWork
from meshkit.observability import metrics

log = structlog.get_logger("meshkit.consumer")

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


class PoisonEvent(Exception):
    """The message can never be handled (not an envelope, or data fails its schema)."""


@dataclass
class _Parsed:
    record: Record
    envelope: CloudEvent | None
    typed: TypedEvent[Any] | None
    error: str | None


@dataclass(eq=False)
class _Lane:
    """One assigned partition: its fetched records not yet applied, and the task applying
    them in offset order."""

    tp: TopicPartition
    pending: deque[Record] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    paused: bool = False
    failing: bool = False


class _FinishRevokedLanes(ConsumerRebalanceListener):
    """A revoked partition's lane ends its transaction before another member takes over."""

    def __init__(self, owner: EventConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._owner._retire_lanes(list(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None


class EventConsumer:
    def __init__(
        self,
        *,
        topics: Sequence[str],
        group_id: str,
        bootstrap_servers: str,
        handlers: HandlerRegistry,
        uow_factory: Callable[[], UnitOfWork],
        service: str,
        max_attempts: int = 5,
        max_backoff_s: float = 5.0,
        max_batch: int = 2000,
        consumer_factory: Callable[[], AIOKafkaConsumer] | None = None,
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        self.topics = list(topics)
        self.group_id = group_id
        self._handlers = handlers
        self._uow_factory = uow_factory
        self._service = service
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff_s
        # a lane applies at most this many records per transaction, and pauses its
        # partition's fetching when four times as many are waiting
        self._max_batch = max_batch
        self._max_backlog = 4 * max_batch
        self._consumer_factory = consumer_factory or (
            lambda: make_consumer(
                *self.topics,
                bootstrap_servers=bootstrap_servers,
                group_id=group_id,
                client_id=f"{service}-consumer",
            )
        )
        self._producer_factory = producer_factory or (
            lambda: make_producer(bootstrap_servers, client_id=f"{service}-dlq")
        )
        self._consumer: AIOKafkaConsumer | None = None
        self._lanes: dict[TopicPartition, _Lane] = {}
        self._dlq_producer: AIOKafkaProducer | None = None
        self._dlq_lock = asyncio.Lock()
        self._stopping = False
        self._polling_ok = False
        self.processed_total = 0
        self.duplicates_total = 0
        self.dead_lettered_total = 0

    @property
    def healthy(self) -> bool:
        """Kafka answers the polls and no lane is retrying a failed batch."""
        return self._polling_ok and not any(lane.failing for lane in self._lanes.values())

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self) -> None:
        """Fetch for ever; the lanes apply what is fetched meanwhile."""
        while not self._stopping:
            # each poll retries on its own: the backoff starts afresh after a success
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(Exception),
                wait=wait_exponential(multiplier=0.2, min=0.2, max=self._max_backoff),
                before_sleep=self._poll_failed,
                reraise=True,
            ):
                with attempt:
                    # while a lane is paused, poll briefly so that its resume is seen soon
                    paused = any(lane.paused for lane in self._lanes.values())
                    await self._fetch(timeout_ms=100 if paused else 500)

    async def poll_once(self, timeout_ms: int = 500) -> int:
        """One ``getmany()``, and wait until every partition's records are applied and
        their offsets committed. Returns how many records were fetched."""
        fetched = await self._fetch(timeout_ms)
        await self.drained()
        return fetched

    async def drained(self) -> None:
        """Until every lane has applied (and committed) what it was given."""
        while True:
            busy = [lane for lane in self._lanes.values() if not lane.idle.is_set()]
            if not busy:
                return
            await asyncio.wait(
                [asyncio.ensure_future(lane.idle.wait()) for lane in busy],
                return_when=asyncio.ALL_COMPLETED,
            )

    async def _fetch(self, timeout_ms: int) -> int:
        if self._stopping:
            return 0
        consumer = await self._ensure_consumer()
        batches = await consumer.getmany(timeout_ms=timeout_ms)
        self._polling_ok = True
        fetched = 0
        for tp, records in batches.items():
            if records:
                self._enqueue(consumer, tp, records)
                fetched += len(records)
        return fetched

    def _enqueue(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: list[Record]
    ) -> None:
        lane = self._lanes.get(tp)
        if lane is None:
            lane = self._lanes[tp] = _Lane(tp)
            lane.task = asyncio.create_task(self._run_lane(lane), name=f"consumer-lane-{tp}")
        lane.pending.extend(records)
        lane.idle.clear()
        lane.wakeup.set()
        if len(lane.pending) >= self._max_backlog and not lane.paused:
            consumer.pause(tp)
            lane.paused = True

    async def _run_lane(self, lane: _Lane) -> None:
        resume_at = self._max_backlog // 2
        while True:
            if not lane.pending:
                lane.wakeup.clear()
                lane.idle.set()
                await lane.wakeup.wait()
                continue
            n = min(len(lane.pending), self._max_batch)
            batch = [lane.pending.popleft() for _ in range(n)]
            await self._apply_until_done(lane, batch)
            await self._commit({lane.tp: batch[-1].offset + 1})
            if lane.paused and len(lane.pending) <= resume_at:
                lane.paused = False
                consumer = self._consumer
                if consumer is not None and lane.tp in consumer.assignment():
                    consumer.resume(lane.tp)

    async def _apply_until_done(self, lane: _Lane, batch: list[Record]) -> None:
        """Apply a batch, retrying (with backoff, without limit) what is not the events'
        fault — the database or the dead letter topic unreachable. A batch applied again
        is a no-op for what the inbox already holds."""

        def failed(state: RetryCallState) -> None:
            lane.failing = True
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "consumer.batch_retry",
                partition=str(lane.tp),
                error=repr(exc)[:500],
                retry_in_s=state.next_action.sleep if state.next_action else None,
            )

        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=0.2, min=0.2, max=self._max_backoff),
            before_sleep=failed,
            reraise=True,
        ):
            with attempt:
                await self._apply_partition_batch(lane.tp, batch)
        lane.failing = False

    async def _retire_lanes(self, tps: Sequence[TopicPartition], wait_s: float = 10.0) -> None:
        """Partitions this member no longer owns: drop what is queued, let a transaction in
        flight finish (within ``wait_s``; otherwise it is cancelled and rolled back — the
        new owner applies those events, the inbox keeps them single)."""
        lanes = [lane for tp in tps if (lane := self._lanes.pop(tp, None)) is not None]
        for lane in lanes:
            lane.pending.clear()
        for lane in lanes:
            if lane.task is None:
                continue
            if not lane.idle.is_set():
                try:
                    await asyncio.wait_for(asyncio.shield(lane.idle.wait()), wait_s)
                except TimeoutError:
                    log.warning("consumer.lane_cancelled", partition=str(lane.tp))
            lane.task.cancel()
            await asyncio.gather(lane.task, return_exceptions=True)
            lane.idle.set()  # whoever waits for it to drain (poll_once) goes on

    async def _poll_failed(self, state: RetryCallState) -> None:
        self._polling_ok = False
        if self._stopping:
            return
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else None
        log.warning("consumer.loop_error", error=repr(exc)[:500], retry_in_s=wait)
        await self._drop_consumer()

    async def stop(self) -> None:
        self._stopping = True
        await self._drop_consumer()
        producer, self._dlq_producer = self._dlq_producer, None
        if producer is not None:
            await close_client(producer, 5)

    async def _ensure_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = self._consumer_factory()
            if isinstance(consumer, AIOKafkaConsumer):
                consumer.subscribe(self.topics, listener=_FinishRevokedLanes(self))
            try:
                await consumer.start()
            except BaseException:
                await close_client(consumer, 10)
                raise
            self._consumer = consumer
        return self._consumer

    async def _drop_consumer(self) -> None:
        # what the lanes hold is not committed: it is fetched again by whoever owns it next
        await self._retire_lanes(list(self._lanes), wait_s=5.0)
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await close_client(consumer, 10)

    # -- processing -------------------------------------------------------------------------
    async def _handle_partition_batch(self, tp: TopicPartition, records: list[Record]) -> None:
        await self._apply_partition_batch(tp, records)
        await self._commit({tp: records[-1].offset + 1})

    async def _apply_partition_batch(self, tp: TopicPartition, records: list[Record]) -> None:
        parsed = [self._parse(r) for r in records]
        poison = [p for p in parsed if p.error is not None]
        for p in poison:
            await self._dead_letter(p.record, p.error or "poison", attempts=0)
        good = [p for p in parsed if p.error is None]
        if good:
            try:
                await self._apply(good)
            except Exception as exc:
                if is_infrastructure_error(exc):
                    raise  # retried by the lane; the inbox dedups what is applied again
                log.info("consumer.batch_failed_isolating", error=repr(exc)[:300])
                for p in good:  # in offset order, one transaction each
                    await self._apply_one_with_retries(p)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        consumer = self._consumer
        if consumer is None:  # stopped meanwhile: the inbox makes the redelivery a no-op
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:  # the effects are in the inbox; redelivery will be a no-op
            log.warning("consumer.commit_failed", error=repr(exc)[:300])

    def _parse(self, record: ConsumerRecord[bytes, bytes]) -> _Parsed:
        envelope, error = try_parse_envelope(record.value or b"")
        if envelope is None:
            return _Parsed(record, None, None, error)
        model = self._handlers.model_for(envelope.type)
        if model is None:  # an event type this service does not handle
            return _Parsed(record, envelope, None, None)
        try:
            typed = TypedEvent(envelope=envelope, data=model.model_validate(envelope.data))
        except ValidationError as exc:
            return _Parsed(record, envelope, None, f"data does not match {envelope.type}: {exc}")
        return _Parsed(record, envelope, typed, None)

    async def _apply(self, items: list[_Parsed]) -> None:
        """One transaction for ``items`` (one partition's, in offset order): record their
        ids in the inbox in one statement, skipping those it already holds; run the
        handlers of the events recorded now, in order; commit."""
        relevant = [p for p in items if p.typed is not None]
        if not relevant:
            return
        first: dict[str, _Parsed] = {}  # the same id twice in one batch is recorded once
        for p in relevant:
            assert p.typed is not None
            first.setdefault(p.typed.envelope.id, p)
        uow = self._uow_factory()
        async with uow:
            # a duplicate delivered concurrently to another consumer waits on its row lock
            # here and is skipped once that one commits
            fresh = await _record_in_inbox(uow.session, self.group_id, list(first.values()))
            applied: Counter[str] = Counter()
            for p in relevant:
                typed = p.typed
                assert typed is not None
                envelope = typed.envelope
                if envelope.id not in fresh:
                    self.duplicates_total += 1
                    metrics.EVENTS_DUPLICATE.labels(self._service, envelope.type).inc()
                    continue
                fresh.discard(envelope.id)  # the same id twice in one batch: applied once
                applied[envelope.type] += 1
                uow.correlation_id = envelope.correlationid or envelope.id
                uow.causation_id = envelope.id
                tokens = context.bind(uow.correlation_id, None)
                # units of work a handler opens itself, and its calls, inherit both ids
                causes = context.bind_causes(uow.correlation_id, envelope.id)
                try:
                    for handler in self._handlers.handlers_for(envelope.type):
                        await handler(typed, uow)
                finally:
                    context.unbind_causes(causes)
                    context.unbind(tokens)
            await uow.commit()
        self.processed_total += sum(applied.values())
        for event_type, n in applied.items():  # first deliveries only
            metrics.EVENTS_CONSUMED.labels(self._service, event_type).inc(n)

    async def _apply_one_with_retries(self, item: _Parsed) -> None:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._max_attempts),
                wait=wait_exponential(multiplier=0.1, min=0.1, max=self._max_backoff),
                retry=retry_if_exception(lambda e: not is_infrastructure_error(e)),
                before_sleep=lambda st: log.info(
                    "consumer.retry",
                    event_id=item.typed.id if item.typed else None,
                    attempt=st.attempt_number,
                    error=repr(st.outcome.exception() if st.outcome else None)[:300],
                ),
            ):
                with attempt:
                    await self._apply([item])
        except RetryError as exc:  # the handler kept failing on this event
            last = exc.last_attempt
            await self._dead_letter(
                item.record, repr(last.exception())[:2000], attempts=last.attempt_number
            )

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: str, *, attempts: int
    ) -> None:
        async with self._dlq_lock:  # partitions are processed concurrently
            if self._dlq_producer is None:
                producer = self._producer_factory()
                await producer.start()
                self._dlq_producer = producer
        assert self._dlq_producer is not None
        topic = dlq_topic(record.topic, self.group_id)
        headers = [
            *list(record.headers or []),
            ("dlq-error", error.encode()),
            ("dlq-original-topic", record.topic.encode()),
            ("dlq-original-partition", str(record.partition).encode()),
            ("dlq-original-offset", str(record.offset).encode()),
            ("dlq-consumer-group", self.group_id.encode()),
            ("dlq-attempts", str(attempts).encode()),
            ("dlq-time", datetime.now(UTC).isoformat().encode()),
        ]
        await self._dlq_producer.send_and_wait(
            topic, value=record.value, key=record.key, headers=headers
        )
        self.dead_lettered_total += 1
        metrics.EVENTS_DEAD_LETTERED.labels(self._service).inc()
        log.error("consumer.dead_lettered", topic=topic, offset=record.offset, error=error[:300])


# one statement per batch: the batch's columns as arrays, what is the same for all as scalars
_INBOX_UNNEST = text(
    'INSERT INTO inbox (consumer_group, event_id, event_type, topic, "partition", "offset", '
    "processed_at) SELECT CAST(:consumer_group AS varchar), e.id, e.type, "
    'CAST(:topic AS varchar), CAST(:partition AS integer), e."offset", now() '
    "FROM unnest(CAST(:event_id AS varchar[]), CAST(:event_type AS varchar[]), "
    'CAST(:offset AS bigint[])) AS e(id, type, "offset") '
    "ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id"
)


async def _record_in_inbox(
    session: AsyncSession, consumer_group: str, events: list[_Parsed]
) -> set[str]:
    """Record the events' ids in the inbox, skipping those already there; returns the ids
    recorded now (``events``: one partition's, each id at most once)."""
    ids = [p.typed.envelope.id for p in events if p.typed is not None]
    types = [p.typed.envelope.type for p in events if p.typed is not None]
    if session.get_bind().dialect.name == "postgresql":
        params = {
            "consumer_group": consumer_group,
            "event_id": ids,
            "event_type": types,
            "topic": events[0].record.topic,
            "partition": events[0].record.partition,
            "offset": [p.record.offset for p in events],
        }
        result = await session.execute(_INBOX_UNNEST, params)
        return set(result.scalars())
    now = datetime.now(UTC)
    rows = [
        {
            "consumer_group": consumer_group,
            "event_id": event_id,
            "event_type": event_type,
            "topic": p.record.topic,
            "partition": p.record.partition,
            "offset": p.record.offset,
            "processed_at": now,
        }
        for event_id, event_type, p in zip(ids, types, events, strict=True)
    ]
    stmt = (
        sqlite_insert(inbox)
        .on_conflict_do_nothing(index_elements=["consumer_group", "event_id"])
        .returning(inbox.c.event_id)
    )
    result = await session.execute(stmt, rows)
    return set(result.scalars())
