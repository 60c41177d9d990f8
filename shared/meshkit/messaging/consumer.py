"""Idempotent event consumer (inbox pattern) on aiokafka.

For each batch of one partition: in one database transaction, skip events whose id the
inbox already holds for this consumer group, run the handlers of the others and record
their ids; commit; only then commit the Kafka offsets. A crash anywhere means redelivery,
and redelivery is a no-op. A handler that keeps failing on an event sends it to the dead
letter topic ``<topic>.dlq.<group>`` with the error attached; infrastructure failures
(database unreachable) are retried without limit instead — they are not the event's fault.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy import insert, select

from meshkit import context
from meshkit.db import is_infrastructure_error
from meshkit.events import CloudEvent, TypedEvent, try_parse_envelope
from meshkit.messaging.handlers import HandlerRegistry
from meshkit.messaging.kafka import dlq_topic, make_consumer, make_producer
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
        self._stopping = False
        self.healthy = False
        self.processed_total = 0
        self.duplicates_total = 0
        self.dead_lettered_total = 0

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                consumer = await self._ensure_consumer()
                batches = await consumer.getmany(timeout_ms=500)
                self.healthy = True
                backoff = 0.2
                for tp, records in batches.items():
                    if records:
                        await self._handle_partition_batch(tp, records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.healthy = False
                log.warning("consumer.loop_error", error=repr(exc)[:500], retry_in_s=backoff)
                await self._drop_consumer()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def stop(self) -> None:
        self._stopping = True
        await self._drop_consumer()
        producer, self._dlq_producer = self._dlq_producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5)

    async def _ensure_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = self._consumer_factory()
            try:
                await consumer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                raise
            self._consumer = consumer
        return self._consumer

    async def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(consumer.stop(), 10)

    # -- processing -------------------------------------------------------------------------
    async def _handle_partition_batch(
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
                for p in good:
                    await self._apply_one_with_retries(p)
        assert self._consumer is not None
        try:
            await self._consumer.commit({tp: records[-1].offset + 1})
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
        relevant = [p for p in items if p.typed is not None]
        if not relevant:
            return
        uow = self._uow_factory()
        async with uow:
            ids = [p.typed.id for p in relevant if p.typed is not None]
            seen = set(
                (
                    await uow.session.execute(
                        select(inbox.c.event_id).where(
                            inbox.c.consumer_group == self.group_id, inbox.c.event_id.in_(ids)
                        )
                    )
                ).scalars()
            )
            now = datetime.now(UTC)
            inbox_rows: list[dict[str, Any]] = []
            for p in relevant:
                assert p.typed is not None
                if p.typed.id in seen:
                    self.duplicates_total += 1
                    metrics.EVENTS_DUPLICATE.labels(self._service, p.typed.envelope.type).inc()
                    continue
                seen.add(p.typed.id)
                inbox_rows.append(
                    {
                        "consumer_group": self.group_id,
                        "event_id": p.typed.id,
                        "event_type": p.typed.envelope.type,
                        "topic": p.record.topic,
                        "partition": p.record.partition,
                        "offset": p.record.offset,
                        "processed_at": now,
                    }
                )
                uow.correlation_id = p.typed.envelope.correlationid or p.typed.id
                uow.causation_id = p.typed.id
                tokens = context.bind(uow.correlation_id, None)
                try:
                    for handler in self._handlers.handlers_for(p.typed.envelope.type):
                        await handler(p.typed, uow)
                finally:
                    context.unbind(tokens)
            applied = len(inbox_rows)
            if inbox_rows:
                # one statement for the batch; a concurrent duplicate fails the whole
                # transaction on the primary key, and the retry then skips it as seen
                await uow.session.execute(insert(inbox), inbox_rows)
            await uow.commit()
        self.processed_total += applied
        for row in inbox_rows:  # first deliveries only: duplicates were counted above
            metrics.EVENTS_CONSUMED.labels(self._service, row["event_type"]).inc()

    async def _apply_one_with_retries(self, item: _Parsed) -> None:
        attempt = 0
        backoff = 0.1
        while True:
            attempt += 1
            try:
                await self._apply([item])
                return
            except Exception as exc:
                if is_infrastructure_error(exc):
                    raise
                if attempt >= self._max_attempts:
                    await self._dead_letter(item.record, repr(exc)[:2000], attempts=attempt)
                    return
                log.info(
                    "consumer.retry",
                    event_id=item.typed.id if item.typed else None,
                    attempt=attempt,
                    error=repr(exc)[:300],
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: str, *, attempts: int
    ) -> None:
        if self._dlq_producer is None:
            producer = self._producer_factory()
            await producer.start()
            self._dlq_producer = producer
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
