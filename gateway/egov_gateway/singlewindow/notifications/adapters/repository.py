"""Persistence of the notification inbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from egov_gateway.singlewindow.notifications.adapters.tables import notifications as t
from egov_gateway.singlewindow.notifications.domain.model import Notification, NotificationDraft


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _from(row: Mapping[Any, Any]) -> Notification:
    created = _utc(row["created_at"])
    assert created is not None
    return Notification(
        id=int(row["id"]),
        citizen_iin=row["citizen_iin"],
        kind=row["kind"],
        title=dict(row["title"]),
        body=dict(row["body"]),
        ref_type=row["ref_type"],
        ref_id=row["ref_id"],
        important=bool(row["important"]),
        created_at=created,
        read_at=_utc(row["read_at"]),
        sms_status=row["sms_status"],
        sms_attempts=int(row["sms_attempts"] or 0),
    )


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, draft: NotificationDraft, *, source_event_id: str, now: datetime, sms: bool
    ) -> bool:
        """Insert unless this event already notified this citizen of this kind; True if added."""
        exists = await self.session.scalar(
            select(t.c.id).where(
                t.c.source_event_id == source_event_id,
                t.c.kind == draft.kind,
                t.c.citizen_iin == draft.citizen_iin,
            )
        )
        if exists is not None:
            return False
        await self.session.execute(
            t.insert().values(
                citizen_iin=draft.citizen_iin,
                kind=draft.kind,
                title=draft.title,
                body=draft.body,
                ref_type=draft.ref_type,
                ref_id=draft.ref_id,
                source_event_id=source_event_id,
                important=draft.important,
                created_at=now,
                sms_status="pending" if sms and draft.important else None,
                sms_attempts=0,
            )
        )
        return True

    async def page(
        self, iin: str, *, limit: int, offset: int, unread_only: bool
    ) -> tuple[list[Notification], int, int]:
        """(newest first items, total matching, unread count)."""
        where = [t.c.citizen_iin == iin]
        if unread_only:
            where.append(t.c.read_at.is_(None))
        rows = await self.session.execute(
            select(t).where(*where).order_by(t.c.id.desc()).limit(limit).offset(offset)
        )
        items = [_from(r) for r in rows.mappings()]
        total = int(await self.session.scalar(select(func.count()).where(*where)) or 0)
        unread = int(
            await self.session.scalar(
                select(func.count()).where(t.c.citizen_iin == iin, t.c.read_at.is_(None))
            )
            or 0
        )
        return items, total, unread

    async def mark_read(self, iin: str, ids: Sequence[int] | None, now: datetime) -> int:
        cond = and_(t.c.citizen_iin == iin, t.c.read_at.is_(None))
        if ids is not None:
            cond = and_(cond, t.c.id.in_(list(ids)))
        result = await self.session.execute(update(t).where(cond).values(read_at=now))
        return int(getattr(result, "rowcount", 0) or 0)

    async def get(self, iin: str, notification_id: int) -> Notification | None:
        row = (
            (
                await self.session.execute(
                    select(t).where(t.c.id == notification_id, t.c.citizen_iin == iin)
                )
            )
            .mappings()
            .first()
        )
        return _from(row) if row else None

    async def pending_sms(self, limit: int) -> list[Notification]:
        rows = await self.session.execute(
            select(t).where(t.c.sms_status == "pending").order_by(t.c.id).limit(limit)
        )
        return [_from(r) for r in rows.mappings()]

    async def sms_result(
        self, notification_id: int, *, ok: bool, error: str | None, give_up: bool
    ) -> None:
        values: dict[str, Any] = {"sms_attempts": t.c.sms_attempts + 1, "sms_error": error}
        if ok:
            values["sms_status"] = "sent"
        elif give_up:
            values["sms_status"] = "failed"
        await self.session.execute(update(t).where(t.c.id == notification_id).values(**values))
