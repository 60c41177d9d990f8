"""Outbox relay: publishes committed outbox rows to Kafka, in order per key, at least once.

Several relays may run against one PostgreSQL database: each claims rows with
``FOR UPDATE SKIP LOCKED`` and skips every key whose earliest unsent row it could not
claim, so two relays never publish one key's events out of order and never both send a row
they both hold. A broker outage just leaves rows unsent; the relay backs off and resumes
where it stopped (rows are marked sent only after Kafka acknowledged them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meshkit.messaging.kafka import CONTENT_TYPE, make_producer
from meshkit.messaging.tables import outbox
from meshkit.observability import metrics

log = structlog.get_logger("meshkit.outbox")


class OutboxRelay:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        bootstrap_servers: str,
        service: str,
        batch_size: int = 500,
        poll_interval_s: float = 0.2,
        max_backoff_s: float = 5.0,
        publish_timeout_s: float = 15.0,
        retention: timedelta = timedelta(days=1),
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        self._sf = session_factory
        self._bootstrap = bootstrap_servers
        self._service = service
        self._batch = batch_size
        self._poll = poll_interval_s
        self._max_backoff = max_backoff_s
        self._publish_timeout = publish_timeout_s
        self._retention = retention
        self._producer_factory = producer_factory or (
            lambda: make_producer(bootstrap_servers, client_id=f"{service}-relay")
        )
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self.healthy = False
        self.published_total = 0
        self._last_purge = datetime.now(UTC)

    # -- lifecycle ------------------------------------------------------------------------
    def wake(self) -> None:
        """Called after a unit of work commits events: publish now rather than at next poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                published = await self.publish_once()
                backoff = 0.1
                self.healthy = True
                if published < self._batch:
                    await self._idle()
                await self._maybe_purge()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database down: keep rows, back off, retry
                self.healthy = False
                metrics.OUTBOX_FAILURES.labels(self._service).inc()
                log.warning("outbox.publish_failed", error=repr(exc)[:500], retry_in_s=backoff)
                await self._drop_producer()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await self._drop_producer()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
        self._wake.clear()

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory()
            try:
                await producer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=5)

    # -- one round --------------------------------------------------------------------------
    async def publish_once(self) -> int:
        """Claim, publish and mark one batch. Returns how many rows were published."""
        async with self._sf() as session, session.begin():
            rows = await self._claim(session)
            if not rows:
                await self._record_lag(session)
                return 0
            producer = await self._ensure_producer()
            await asyncio.wait_for(self._send(producer, rows), timeout=self._publish_timeout)
            await session.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]))
                .values(sent_at=datetime.now(UTC), attempts=outbox.c.attempts + 1)
            )
        self.published_total += len(rows)
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def _claim(self, session: AsyncSession) -> Sequence[Row[Any]]:
        candidates = (
            await session.execute(
                select(outbox.c.id, outbox.c.message_key)
                .where(outbox.c.sent_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self._batch)
            )
        ).all()
        if not candidates:
            return []
        locked = {
            r.id: r
            for r in (
                await session.execute(
                    select(outbox.c.id, outbox.c.topic, outbox.c.message_key, outbox.c.payload)
                    .where(outbox.c.id.in_([c.id for c in candidates]), outbox.c.sent_at.is_(None))
                    .with_for_update(skip_locked=True)
                )
            ).all()
        }
        claimed: list[Row[Any]] = []
        blocked: set[str | None] = set()
        for cand in candidates:  # id order
            if cand.message_key in blocked:
                continue
            row = locked.get(cand.id)
            if row is None:  # another relay holds (or just sent) an earlier row of this key
                blocked.add(cand.message_key)
                continue
            claimed.append(row)
        return claimed

    @staticmethod
    async def _send(producer: AIOKafkaProducer, rows: Sequence[Row[Any]]) -> None:
        futures = []
        for row in rows:
            key = row.message_key.encode() if row.message_key else None
            futures.append(
                await producer.send(
                    row.topic,
                    value=row.payload,
                    key=key,
                    headers=[("content-type", CONTENT_TYPE)],
                )
            )
        await asyncio.gather(*futures)

    async def _record_lag(self, session: AsyncSession) -> None:
        pending = (
            await session.execute(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )
        ).scalar_one()
        metrics.OUTBOX_PENDING.labels(self._service).set(pending)

    async def _maybe_purge(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_purge < timedelta(minutes=10):
            return
        self._last_purge = now
        async with self._sf() as session, session.begin():
            await session.execute(
                delete(outbox).where(
                    outbox.c.sent_at.is_not(None), outbox.c.sent_at < now - self._retention
                )
            )

    async def pending_count(self) -> int:
        async with self._sf() as session:
            return int(
                (
                    await session.execute(
                        select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                    )
                ).scalar_one()
            )
