"""Outbox relay: publishes committed outbox rows to Kafka, in order per key, at least once.

Wake-up: a unit of work that commits outbox rows wakes the relay of its own process at
once (``wake()``, the ``on_commit`` hook), and on PostgreSQL it also sends
``NOTIFY meshkit_outbox`` inside its transaction, delivered at commit, which the relay of
any process on that database LISTENs to. Polling every ``poll_interval_s`` stays as the
fallback (and is the only path on SQLite, or while the LISTEN connection is down).

One round: claim a batch of unsent rows in id order, hand all of them to the producer
(record batches per partition, no await per record) and wait until Kafka has acknowledged
the whole batch; then (on PostgreSQL) mark the rows sent in one statement and commit while
the next round already claims and sends the next batch (``publish_next``). The producer
keeps one request in flight per partition, so records of one key (one partition) reach the
log in the order sent, and a batch is sent only once the one before it is acknowledged.

Several relays may run against one PostgreSQL database: each claims rows with
``FOR UPDATE SKIP LOCKED`` and skips every key whose earliest unsent row it could not
claim, so two relays never publish one key's events out of order and never both send a row
they both hold; one that finds only another relay's keys among the first unsent rows looks
further, through its id window, for keys nobody holds. A broker outage just leaves rows
unsent; the relay backs off and resumes where it stopped (rows are marked sent only after
Kafka acknowledged them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import BigInteger, any_, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from meshkit.messaging.kafka import CONTENT_TYPE, close_client, make_producer
from meshkit.messaging.tables import outbox
from meshkit.messaging.uow import OUTBOX_CHANNEL
from meshkit.observability import metrics

log = structlog.get_logger("meshkit.outbox")

_HEADERS = [("content-type", CONTENT_TYPE)]
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit = off")
# a round looks for unsent rows among the next ``_CLAIM_WINDOW x batch`` ids from the earliest
_CLAIM_WINDOW = 4


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
        listen: bool = True,
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
        self._listen = listen
        self._listener: asyncio.Task[None] | None = None
        self.listening = False  # a LISTEN connection is up (PostgreSQL only)
        self.healthy = False
        self.waiting = False  # idle until a wake-up or the next poll
        self.published_total = 0
        self.wakeups_total = 0
        self._last_purge = datetime.now(UTC)
        self._partitions: dict[str, list[int]] = {}
        # a batch Kafka has acknowledged whose rows are being marked sent (PostgreSQL only)
        self._settling: asyncio.Task[None] | None = None
        self._in_flight: frozenset[int] = frozenset()

    # -- lifecycle ------------------------------------------------------------------------
    def wake(self) -> None:
        """Called after a unit of work commits events: publish now rather than at next poll."""
        self._wake.set()

    async def run(self) -> None:
        if self._listen and self._engine().dialect.name == "postgresql":
            self._listener = asyncio.create_task(self._listen_loop(), name="outbox-listen")
        try:
            while not self._stopping:
                # each round retries on its own: the backoff starts afresh after a success
                async for attempt in AsyncRetrying(
                    retry=retry_if_exception_type(Exception),
                    wait=wait_exponential(multiplier=0.1, min=0.1, max=self._max_backoff),
                    before_sleep=self._round_failed,
                    reraise=True,
                ):
                    with attempt:
                        await self._round()
        finally:
            await self.settle()
            if self._listener is not None:
                self._listener.cancel()
                with contextlib.suppress(BaseException):
                    await self._listener

    async def _round(self) -> None:
        if self._stopping:
            return
        published = await self.publish_next()
        self.healthy = True
        if published < self._batch:
            await self._idle()
        await self._maybe_purge()

    async def _round_failed(self, state: RetryCallState) -> None:
        # broker or database down: keep the rows, drop the producer, back off, retry
        self.healthy = False
        metrics.OUTBOX_FAILURES.labels(self._service).inc()
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else None
        log.warning("outbox.publish_failed", error=repr(exc)[:500], retry_in_s=wait)
        await self._drop_producer()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._listener is not None:
            self._listener.cancel()
        await self.settle()
        await self._drop_producer()

    async def _idle(self) -> None:
        if not self._wake.is_set():
            self.waiting = True
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            finally:
                self.waiting = False
        if self._wake.is_set():
            self.wakeups_total += 1
        self._wake.clear()

    def _engine(self) -> AsyncEngine:
        bind = self._sf.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("the relay's session factory must be bound to an AsyncEngine")
        return bind

    # -- LISTEN (PostgreSQL): a commit in any process on this database wakes the relay ----
    async def _listen_loop(self) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=0.2, min=0.2, max=self._max_backoff),
        ):
            with attempt:
                await self._listen_once()
                if self._stopping:
                    return
                raise ConnectionError("LISTEN connection closed")

    async def _listen_once(self) -> None:
        import asyncpg  # the asyncpg dialect is the only PostgreSQL driver the mesh uses

        engine = self._engine()
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        conn = await asyncpg.connect(*cargs, **cparams)
        closed = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _c: closed.set())
            await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
            self.listening = True
            self._wake.set()  # rows committed while nobody listened are published now
            while not self._stopping and not closed.is_set() and not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closed.wait(), timeout=10)
                if not closed.is_set() and not conn.is_closed():
                    await asyncio.wait_for(conn.execute("SELECT 1"), timeout=5)  # still there?
        finally:
            self.listening = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)
            if not conn.is_closed():
                conn.terminate()

    # -- producer -------------------------------------------------------------------------
    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory()
            try:
                await producer.start()
            except BaseException:
                await close_client(producer, 5)
                raise
            self._producer = producer
            self._partitions = {}
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await close_client(producer, 5)

    # -- one round --------------------------------------------------------------------------
    async def publish_next(self) -> int:
        """Claim and publish one batch; on PostgreSQL its rows are then marked sent in the
        background while the next batch is claimed and sent (``settle()`` waits for that).
        Returns how many rows were published.

        Why this keeps per-key order: the next batch is sent only after Kafka acknowledged
        every record of this one, so each event reaches the log before any later event of
        its key. The next claim passes over this batch's rows (still locked and unsent until
        the mark commits) instead of treating them as another relay's, which would block
        their keys. Should the mark fail, its rows stay unsent and go again later: a
        duplicate behind newer events, which the consumers' inbox drops."""
        if self._engine().dialect.name != "postgresql":
            return await self.publish_once()  # one connection at a time on SQLite
        session = self._sf()
        try:
            rows = await self._claim(session, passing_over=self._in_flight)
            if not rows:
                await self.settle()
                await self._record_lag(session)
                await session.close()
                return 0
            producer = await self._ensure_producer()
            await asyncio.wait_for(self._send(producer, rows), timeout=self._publish_timeout)
            await self.settle()  # the batch before this one: one mark in flight at a time
        except BaseException:
            await asyncio.shield(session.close())  # rolls back: the rows stay unsent
            raise
        ids = [r.id for r in rows]
        self._in_flight = frozenset(ids)
        self._settling = asyncio.create_task(self._settle(session, ids), name="outbox-mark")
        self.published_total += len(rows)
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def settle(self) -> None:
        """Wait until the batch ``publish_next()`` sent last is marked sent (or failed to be)."""
        task = self._settling
        if task is not None:
            await asyncio.shield(task)  # a cancelled caller does not cancel the mark

    async def _settle(self, session: AsyncSession, ids: list[int]) -> None:
        try:
            await self._mark_sent(session, ids)
            await session.commit()
        except Exception as exc:  # the rows stay unsent and are published again
            metrics.OUTBOX_FAILURES.labels(self._service).inc()
            log.warning("outbox.mark_failed", rows=len(ids), error=repr(exc)[:500])
        finally:
            with contextlib.suppress(Exception):
                await session.close()
            self._in_flight = frozenset()

    async def publish_once(self) -> int:
        """Claim, publish and mark one batch, committed before it returns. Returns how many
        rows were published."""
        await self.settle()
        async with self._sf() as session, session.begin():
            rows = await self._claim(session)
            if not rows:
                await self._record_lag(session)
                return 0
            producer = await self._ensure_producer()
            # the database marks the rows while Kafka stores them: the mark takes effect only
            # with the commit, and the commit comes only after every ack
            marking = asyncio.ensure_future(self._mark_sent(session, [r.id for r in rows]))
            try:
                await asyncio.wait_for(self._send(producer, rows), timeout=self._publish_timeout)
            finally:
                await marking  # if sending failed, the transaction is rolled back after it
        self.published_total += len(rows)
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def _mark_sent(self, session: AsyncSession, ids: list[int]) -> None:
        if session.get_bind().dialect.name == "postgresql":
            # no fsync wait for the mark: were it lost in a crash, the rows are sent
            # again (at least once; the consumers' inbox drops the second copy)
            await session.execute(_ASYNC_COMMIT)
            # the id range lets PostgreSQL find the rows by index whatever its statistics
            where = outbox.c.id.between(ids[0], ids[-1]) & (
                outbox.c.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))
            )
        else:
            where = outbox.c.id.in_(ids)
        await session.execute(
            update(outbox)
            .where(where)
            .values(sent_at=datetime.now(UTC), attempts=outbox.c.attempts + 1)
        )

    async def _claim(
        self, session: AsyncSession, passing_over: frozenset[int] = frozenset()
    ) -> Sequence[Row[Any]]:
        # the unsent rows from the earliest on, within an id window: bounded by ids, the scan
        # reads the unsent-rows index in order even while the outbox's statistics are stale
        # (a burst fills it faster than autovacuum analyzes it; unbounded, PostgreSQL then
        # plans a scan of every unsent row and a sort, ~30 ms per round at 100,000 rows)
        earliest = (
            await session.execute(select(func.min(outbox.c.id)).where(outbox.c.sent_at.is_(None)))
        ).scalar_one_or_none()
        if earliest is None:
            return []
        claimed, seen = await self._claim_from(
            session, earliest, self._batch + len(passing_over), passing_over
        )
        if not claimed and seen:
            # every key among the first rows is another relay's (one that marks a batch while
            # it sends the next holds two batches' worth): look past them, through the window
            claimed, _ = await self._claim_from(
                session, earliest, _CLAIM_WINDOW * self._batch, passing_over
            )
        return claimed[: self._batch]

    async def _claim_from(
        self, session: AsyncSession, earliest: int, limit: int, passing_over: frozenset[int]
    ) -> tuple[list[Row[Any]], bool]:
        """(the rows claimed, whether there were unsent rows to consider at all)."""
        candidates = (
            await session.execute(
                select(outbox.c.id, outbox.c.message_key)
                .where(
                    outbox.c.sent_at.is_(None),
                    outbox.c.id.between(earliest, earliest + _CLAIM_WINDOW * self._batch),
                )
                .order_by(outbox.c.id)
                .limit(limit)
            )
        ).all()
        if passing_over:  # this relay's batch being marked: sent already, not candidates
            candidates = [c for c in candidates if c.id not in passing_over]
            candidates = candidates[: limit - len(passing_over)]
        if not candidates:
            return [], False
        first, last = candidates[0].id, candidates[-1].id
        # rows of the candidates' id range, locked; a row another relay holds is skipped
        locked = {
            r.id: r
            for r in (
                await session.execute(
                    select(outbox.c.id, outbox.c.topic, outbox.c.message_key, outbox.c.payload)
                    .where(outbox.c.id.between(first, last), outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.id)
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
        return claimed, True

    async def _partitions_for(self, producer: AIOKafkaProducer, topic: str) -> list[int]:
        parts = self._partitions.get(topic)
        if parts is None:
            parts = sorted(await producer.partitions_for(topic))
            self._partitions[topic] = parts
        return parts

    async def _send(self, producer: AIOKafkaProducer, rows: Sequence[Row[Any]]) -> None:
        """Every row to Kafka, then wait for all acks: record batches built per partition
        (the default partitioner on the key, as ``send`` would) and handed over without
        awaiting each; rows keep their id order within a partition."""
        create_batch = getattr(producer, "create_batch", None)
        if create_batch is None:  # a stand-in producer without the batch API
            futures = [
                await producer.send(
                    r.topic,
                    value=r.payload,
                    key=r.message_key.encode() if r.message_key else None,
                    headers=_HEADERS,
                )
                for r in rows
            ]
            await asyncio.gather(*futures)
            return
        partitioner = producer._partitioner
        by_tp: dict[tuple[str, int], list[tuple[bytes | None, bytes]]] = {}
        part_cache: dict[tuple[str, bytes | None], int] = {}
        for r in rows:
            key = r.message_key.encode() if r.message_key else None
            p = part_cache.get((r.topic, key))
            if p is None:
                parts = await self._partitions_for(producer, r.topic)
                p = partitioner(key, parts, parts)
                if key is not None:
                    part_cache[(r.topic, key)] = p
            by_tp.setdefault((r.topic, p), []).append((key, r.payload))
        futures = []
        for (topic, partition), records in by_tp.items():
            batch = create_batch()
            for key, value in records:
                if batch.append(key=key, value=value, timestamp=None, headers=_HEADERS) is None:
                    batch.close()
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = create_batch()
                    if batch.append(key=key, value=value, timestamp=None, headers=_HEADERS) is None:
                        raise ValueError(f"an outbox record of {len(value)} B fits no batch")
            if batch.record_count():
                batch.close()
                futures.append(await producer.send_batch(batch, topic, partition=partition))
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
