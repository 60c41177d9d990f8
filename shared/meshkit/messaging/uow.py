"""Unit of work: one database transaction that holds the domain change and its outbox rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meshkit.context import current_causation_id, current_correlation_id, current_request_id
from meshkit.events import CloudEvent, EventData, build_envelope
from meshkit.messaging.tables import outbox

#: PostgreSQL channel a unit of work NOTIFYs when it commits outbox rows; relays LISTEN to it
OUTBOX_CHANNEL = "meshkit_outbox"
_NOTIFY = text(f"NOTIFY {OUTBOX_CHANNEL}")


class UnitOfWork:
    """``async with uow: ...; uow.emit(event, subject=...); await uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, outbox rows included —
    so an event can never be published for a change that did not happen, nor the reverse.
    Services subclass it to expose their repositories (built on ``self.session``).

    A commit that wrote outbox rows wakes the relay: ``on_commit`` right after the commit
    (the relay of this process), and on PostgreSQL a ``NOTIFY meshkit_outbox`` sent inside
    the transaction, which PostgreSQL delivers only if and when it commits (relays of any
    process on this database LISTEN to it). ``notify = False`` on a subclass turns it off.
    """

    notify: bool = True

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        source: str,
        topic: str,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.source = source
        self.topic = topic
        self._on_commit = on_commit
        self._pending: list[CloudEvent] = []
        self.correlation_id: str | None = None
        self.causation_id: str | None = None
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self._pending = []
        # DESIGN §5: correlationid = the application (a caller's X-Correlation-Id, or the
        # event being handled's) or else the request id; causationid = the event being
        # handled, or else the request
        rid = current_request_id()
        if self.correlation_id is None:
            self.correlation_id = current_correlation_id() or rid
        if self.causation_id is None:
            self.causation_id = current_causation_id() or rid
        await self.session.begin()
        self.init_repositories(self.session)
        return self

    def init_repositories(self, session: AsyncSession) -> None:
        """Hook for subclasses: build repositories on the open session."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(
        self,
        data: EventData,
        *,
        subject: str | None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> CloudEvent:
        """Record an event to be published if, and only if, this unit of work commits."""
        envelope = build_envelope(
            data,
            source=self.source,
            subject=subject,
            correlation_id=correlation_id or self.correlation_id,
            causation_id=causation_id or self.causation_id,
        )
        self._pending.append(envelope)
        return envelope

    @property
    def pending_events(self) -> list[CloudEvent]:
        return list(self._pending)

    async def flush_events(self) -> None:
        if not self._pending:
            return
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {
                "event_id": e.id,
                "event_type": e.type,
                "topic": self.topic,
                "message_key": e.subject or e.id,
                "payload": e.to_json_bytes(),
                "created_at": now,
            }
            for e in self._pending
        ]
        await self.session.execute(insert(outbox), rows)
        if self.notify and self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(_NOTIFY)

    async def commit(self) -> None:
        emitted = bool(self._pending)
        await self.flush_events()
        self._pending = []
        await self.session.commit()
        if emitted and self._on_commit is not None:
            self._on_commit()

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()


class UnitOfWorkFactory:
    """Makes units of work of one class for one service; FastAPI deps and consumers use it."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        source: str,
        topic: str,
        uow_class: type[UnitOfWork] = UnitOfWork,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.source = source
        self.topic = topic
        self.uow_class = uow_class
        self.on_commit = on_commit

    def __call__(self) -> UnitOfWork:
        return self.uow_class(
            self.session_factory, source=self.source, topic=self.topic, on_commit=self.on_commit
        )
