"""Idempotent event consumer (inbox pattern) on aiokafka.

``getmany()`` hands over a batch per partition; the partitions of one poll are processed
concurrently (each in its own transaction), and within a partition strictly in offset
order — one key lives in one partition, so per-key order holds. For each partition batch,
in one database transaction: skip events whose id the inbox already holds for this consumer
group, run the handlers of the others and record all their ids in one insert; commit; only
then commit the Kafka offsets. A crash anywhere means redelivery, and redelivery is a no-op.

A handler failure rolls the batch back and the batch is applied again one event per
transaction, so a poison event neither blocks nor doubles the others; an event whose
handler keeps failing goes to the dead letter topic ``<topic>.dlq.<group>`` with the error
attached. Infrastructure failures (database unreachable) are retried without limit instead
— they are not the event's fault.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
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


class PoisonEvent(Exception):
    """The message can never be handled (not an envelope, or data fails its schema)."""


@dataclass
class _Parsed:
    record: ConsumerRecord[bytes, bytes]
    envelope: CloudEvent | None
    typed: TypedEvent[Any] | None
    error: str | None


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
        self._dlq_producer: AIOKafkaProducer | None = None
        self._dlq_lock = asyncio.Lock()
        self._stopping = False
        self.healthy = False
        self.processed_total = 0
        self.duplicates_total = 0
        self.dead_lettered_total = 0

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self) -> None:
        while not self._stopping:
            # each poll retries on its own: the backoff starts afresh after a success
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(Exception),
                wait=wait_exponential(multiplier=0.2, min=0.2, max=self._max_backoff),
                before_sleep=self._poll_failed,
                reraise=True,
            ):
                with attempt:
                    await self.poll_once()

    async def poll_once(self, timeout_ms: int = 500) -> int:
        """One ``getmany()``: every partition's batch applied (concurrently), then their
        offsets committed. Returns how many records were handled."""
        if self._stopping:
            return 0
        consumer = await self._ensure_consumer()
        batches = await consumer.getmany(timeout_ms=timeout_ms)
        self.healthy = True
        work = [(tp, records) for tp, records in batches.items() if records]
        if not work:
            return 0
        if len(work) == 1:
            await self._handle_partition_batch(*work[0])
        else:
            results = await asyncio.gather(
                *(self._apply_partition_batch(tp, records) for tp, records in work),
                return_exceptions=True,
            )
            done = {
                tp: records[-1].offset + 1
                for (tp, records), result in zip(work, results, strict=True)
                if not isinstance(result, BaseException)
            }
            await self._commit(done)  # what is applied is committed even if another failed
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        return sum(len(records) for _, records in work)

    async def _poll_failed(self, state: RetryCallState) -> None:
        self.healthy = False
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
            try:
                await consumer.start()
            except BaseException:
                await close_client(consumer, 10)
                raise
            self._consumer = consumer
        return self._consumer

    async def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await close_client(consumer, 10)

    # -- processing -------------------------------------------------------------------------
    async def _handle_partition_batch(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        await self._apply_partition_batch(tp, records)
        await self._commit({tp: records[-1].offset + 1})

    async def _apply_partition_batch(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
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
                    raise  # the loop backs off; the batch is redelivered, the inbox dedups
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
        now = datetime.now(UTC)
        rows: dict[str, dict[str, Any]] = {}
        for p in relevant:
            assert p.typed is not None
            rows.setdefault(
                p.typed.id,
                {
                    "consumer_group": self.group_id,
                    "event_id": p.typed.id,
                    "event_type": p.typed.envelope.type,
                    "topic": p.record.topic,
                    "partition": p.record.partition,
                    "offset": p.record.offset,
                    "processed_at": now,
                },
            )
        uow = self._uow_factory()
        async with uow:
            # a duplicate delivered concurrently to another consumer waits on its row lock
            # here and is skipped once that one commits
            fresh = await _record_in_inbox(uow.session, list(rows.values()))
            applied: Counter[str] = Counter()
            for p in relevant:
                assert p.typed is not None
                if p.typed.id not in fresh:
                    self.duplicates_total += 1
                    metrics.EVENTS_DUPLICATE.labels(self._service, p.typed.envelope.type).inc()
                    continue
                fresh.discard(p.typed.id)  # the same id twice in one batch: applied once
                applied[p.typed.envelope.type] += 1
                uow.correlation_id = p.typed.envelope.correlationid or p.typed.id
                uow.causation_id = p.typed.id
                tokens = context.bind(uow.correlation_id, None)
                # units of work a handler opens itself, and its calls, inherit both ids
                causes = context.bind_causes(uow.correlation_id, p.typed.id)
                try:
                    for handler in self._handlers.handlers_for(p.typed.envelope.type):
                        await handler(p.typed, uow)
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


_INBOX_UNNEST = text(
    'INSERT INTO inbox (consumer_group, event_id, event_type, topic, "partition", "offset", '
    "processed_at) SELECT * FROM unnest(CAST(:consumer_group AS varchar[]), "
    "CAST(:event_id AS varchar[]), CAST(:event_type AS varchar[]), CAST(:topic AS varchar[]), "
    "CAST(:partition AS integer[]), CAST(:offset AS bigint[]), "
    "CAST(:processed_at AS timestamptz[])) "
    "ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id"
)
_INBOX_COLUMNS = (
    "consumer_group",
    "event_id",
    "event_type",
    "topic",
    "partition",
    "offset",
    "processed_at",
)


async def _record_in_inbox(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert inbox rows, skipping ids already there; returns the ids inserted now."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # one statement, one array per column
        params = {c: [r[c] for r in rows] for c in _INBOX_COLUMNS}
        result = await session.execute(_INBOX_UNNEST, params)
        return set(result.scalars())
    stmt = (
        sqlite_insert(inbox)
        .on_conflict_do_nothing(index_elements=["consumer_group", "event_id"])
        .returning(inbox.c.event_id)
    )
    result = await session.execute(stmt, rows)
    return set(result.scalars())
