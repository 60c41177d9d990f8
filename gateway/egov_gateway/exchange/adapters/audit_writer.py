"""Group commit of audit records: a response is released only once its record is durable.

Requests hand their entry to one writer task and wait on a future. The writer takes every
entry waiting at that moment, chains them (seq, prev_hash, hash) after the instance's head,
inserts them in ONE transaction and resolves the futures after COMMIT. Under load, batches
grow by themselves (while one commit runs, the next batch gathers), so the cost of a durable
commit (an fsync) is shared by every call in the batch.

SQLite: the writer owns one plain ``sqlite3`` connection (WAL). ``synchronous=NORMAL``
(default): a committed record is in the OS before the answer, so a killed gateway loses
nothing, and a commit is a few writes into the WAL — cheaper than the two thread wake-ups a
hand-off costs, so the batch is committed on the event loop itself when the write lock is free
at once (never waiting for it there: another writer could need the loop to finish). Otherwise,
and always with ``FULL`` (an fsync per group commit, for power cuts), the batch goes to the
connection's own thread. The writer's connection never checkpoints the WAL itself: a
checkpoint copies pages into the database file and fsyncs it (≈15 ms every few hundred
commits, which is what every hundredth call waited for); a ``WalCheckpointer`` thread with its
own connection does it in the background (PASSIVE: writers go on meanwhile). PostgreSQL: one
multi-row INSERT per batch through the service's async engine; it commits synchronously by
default.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from egov_gateway.exchange.adapters import audit_store as store
from egov_gateway.exchange.domain.audit import RECORD_FIELDS, AuditEntry, AuditRecord, ChainHead
from meshkit.db import create_engine

log = structlog.get_logger("egov_gateway.audit")

_STOP = object()
LOCK_WAIT_S = 30.0  # how long a batch waits for SQLite's write lock before failing
_CONFLICT_RETRIES = 5


class AuditUnavailable(Exception):
    """The record could not be made durable: the call must not be answered as a success."""


def audit_engine(url: str) -> AsyncEngine:
    """The engine audit reads (search, verify) use; PostgreSQL writes go through it too."""
    return create_engine(url, pool_size=4)


class ChainConflict(Exception):
    """Another process appended to this instance's chain first."""


class RecordSink(Protocol):
    async def head(self, instance_id: str) -> ChainHead: ...

    async def insert(self, records: Sequence[AuditRecord]) -> None: ...

    async def close(self) -> None: ...


class EngineSink:
    """Any SQLAlchemy async engine (PostgreSQL): one INSERT of many rows per batch."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def head(self, instance_id: str) -> ChainHead:
        async with self.engine.connect() as conn:
            return await store.load_head(conn, instance_id)

    async def insert(self, records: Sequence[AuditRecord]) -> None:
        try:
            async with self.engine.begin() as conn:
                await store.insert_records(conn, records)
        except IntegrityError as exc:
            raise ChainConflict from exc

    async def close(self) -> None:
        return None


class WalCheckpointer:
    """Checkpoints a WAL database from its own thread and connection (module docs).

    Woken after ``every`` commits, or each ``interval_s`` when there were any. A PASSIVE
    checkpoint copies what is in the WAL without stopping writers, but under steady writes the
    WAL is never completely copied at the moment a writer starts, so SQLite never rewinds it and
    the file grows; once it passes ``wal_limit_bytes`` a RESTART checkpoint holds writers off for
    the short tail (the PASSIVE one just copied the rest), ≈7 ms, and the next commit rewinds
    the WAL (the file keeps its size and is overwritten; TRUNCATE's fsync'd shrink cost ≈40 ms).
    A writer held off waits on the sink's thread, never on the event loop."""

    def __init__(
        self,
        path: str,
        *,
        every: int = 500,
        interval_s: float = 1.0,
        wal_limit_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self._path = path
        self._every = every
        self._interval_s = interval_s
        self._wal_limit = wal_limit_bytes
        self._pending = 0
        self._wake = threading.Event()
        self._stopped = False
        self.checkpoints = 0
        self.restarts = 0
        self.last: tuple[int, int, int] | None = None  # (busy, WAL frames, frames copied)
        self._thread = threading.Thread(target=self._run, name="audit-wal-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        self._pending += 1
        if self._pending >= self._every:
            self._wake.set()

    def _checkpoint(self, conn: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
        # fetchall: a statement left unfinished would hold a read mark on the WAL
        row = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()[0]
        return int(row[0]), int(row[1]), int(row[2])

    def connect(self) -> sqlite3.Connection:
        # a RESTART holds new writers off while it waits for readers (a long audit verify,
        # say): give up after 100 ms and try again next round rather than stall the calls
        return sqlite3.connect(self._path, timeout=0.1, isolation_level=None)

    def _run(self) -> None:
        conn = self.connect()
        try:
            page_size = int(conn.execute("PRAGMA page_size").fetchall()[0][0])
            while not self._stopped:
                self._wake.wait(self._interval_s)
                self._wake.clear()
                if self._pending == 0:
                    continue
                self._pending = 0
                try:
                    self.checkpoint_now(conn, page_size)
                except sqlite3.Error as exc:  # busy or gone: the next round tries again
                    log.warning("audit.checkpoint_failed", error=str(exc))
        finally:
            conn.close()

    def checkpoint_now(self, conn: sqlite3.Connection, page_size: int) -> None:
        self.last = self._checkpoint(conn, "PASSIVE")
        self.checkpoints += 1
        if self.last[1] * page_size > self._wal_limit:
            self.last = self._checkpoint(conn, "RESTART")
            self.restarts += 1

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        self._thread.join(timeout=10)


_COLUMNS = ", ".join('"' + c + '"' for c in RECORD_FIELDS)
_INSERT = f"INSERT INTO audit_log ({_COLUMNS}) VALUES ({', '.join('?' for _ in RECORD_FIELDS)})"


class SqliteSink:
    """A plain sqlite3 connection: BEGIN, executemany, COMMIT per batch (module docs)."""

    def __init__(self, path: str, *, synchronous: str = "NORMAL") -> None:
        self._synchronous = "NORMAL" if synchronous.upper() == "NORMAL" else "FULL"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sqlite")
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._checkpointer: WalCheckpointer | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            # busy_timeout 0: the loop thread must never wait for the lock (_insert waits,
            # on the pool's thread)
            conn = sqlite3.connect(
                self._path, timeout=0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job
            self._conn = conn
            self._checkpointer = WalCheckpointer(self._path)
        return self._conn

    def _head(self, instance_id: str) -> ChainHead:
        row = (
            self._db()
            .execute(
                "SELECT seq, hash FROM audit_log WHERE instance_id = ? ORDER BY seq DESC LIMIT 1",
                (instance_id,),
            )
            .fetchone()
        )
        return ChainHead(instance_id, int(row[0]), str(row[1])) if row else ChainHead(instance_id)

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        """On the pool's thread: wait (up to LOCK_WAIT_S) for the write lock, then commit."""
        deadline = time.monotonic() + LOCK_WAIT_S
        pause = 0.001
        while not self._insert_now(rows):
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked")
            time.sleep(pause)  # (a worker thread: nothing else waits on it)
            pause = min(pause * 2, 0.01)

    def _insert_now(self, rows: list[tuple[Any, ...]]) -> bool:
        """Commit if the write lock is free at once; False if another writer holds it."""
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False
            raise
        self._write(db, rows)
        return True

    def _write(self, db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        try:
            db.executemany(_INSERT, rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if self._checkpointer is not None:
            self._checkpointer.committed()

    async def head(self, instance_id: str) -> ChainHead:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._head, instance_id)

    async def insert(self, records: Sequence[AuditRecord]) -> None:
        rows = [tuple(getattr(r, c) for c in RECORD_FIELDS) for r in records]
        try:
            # (the connection is only ever used by one batch at a time: the writer awaits
            # each insert, so the loop thread and the pool's thread never use it together)
            if self._synchronous == "NORMAL" and self._insert_now(rows):
                return
            await asyncio.get_running_loop().run_in_executor(self._pool, self._insert, rows)
        except sqlite3.IntegrityError as exc:
            raise ChainConflict from exc

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._pool, shut)
        self._pool.shutdown(wait=True)
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None


def sink_for(engine: AsyncEngine, *, sqlite_synchronous: str = "NORMAL") -> RecordSink:
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SqliteSink(url.database, synchronous=sqlite_synchronous)
    return EngineSink(engine)


class AuditWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        instance_id: str,
        batch_max: int = 512,
        sink: RecordSink | None = None,
    ) -> None:
        self.engine = engine  # reads (search, verify) go through the engine
        self.sink = sink or sink_for(engine)
        self.instance_id = instance_id
        self.batch_max = batch_max
        self.head = ChainHead(instance_id)
        self.batches = 0
        self.records = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.head = await self.sink.head(self.instance_id)
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        if self._task is not None:
            self._queue.put_nowait(_STOP)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.sink.close()

    async def write(self, entry: AuditEntry) -> AuditRecord:
        """Return once ``entry`` is committed; raises AuditUnavailable otherwise."""
        if self._task is None or self._task.done():
            raise AuditUnavailable("the audit writer is not running")
        fut: asyncio.Future[AuditRecord] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((entry, fut))
        # shielded: a caller that goes away does not withdraw its record
        return await asyncio.shield(fut)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            item = await self._queue.get()
            batch: list[tuple[AuditEntry, asyncio.Future[AuditRecord]]] = []
            if item is _STOP:
                stopping = True
            else:
                batch.append(item)
            while len(batch) < self.batch_max and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is _STOP:
                    stopping = True
                    continue
                batch.append(item)
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[tuple[AuditEntry, asyncio.Future[AuditRecord]]]) -> None:
        error: Exception | None = None
        for _attempt in range(_CONFLICT_RETRIES):
            records: list[AuditRecord] = []
            head = self.head
            for entry, _ in batch:
                rec = head.append(entry)
                records.append(rec)
                head = head.after(rec)
            try:
                await self.sink.insert(records)
            except ChainConflict as exc:
                # another process wrote this instance's chain: continue after its head
                error = exc
                await self._reload_head()
                continue
            except Exception as exc:
                error = exc
                log.error("audit.commit_failed", error=type(exc).__name__, records=len(batch))
                await self._reload_head()
                break
            self.head = head
            self.batches += 1
            self.records += len(records)
            for (_, fut), rec in zip(batch, records, strict=True):
                if not fut.done():
                    fut.set_result(rec)
            return
        for _, fut in batch:
            if not fut.done():
                fut.set_exception(
                    AuditUnavailable(f"audit log unavailable ({type(error).__name__})")
                )

    async def _reload_head(self) -> None:
        try:
            self.head = await self.sink.head(self.instance_id)
        except Exception as exc:  # the database is down: keep the head, retry next batch
            log.error("audit.head_reload_failed", error=type(exc).__name__)
