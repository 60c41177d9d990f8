"""Service layer of the inbox: notify (inside the caller's unit of work), read, mark read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from egov_gateway.singlewindow.notifications.adapters.repository import NotificationRepository
from egov_gateway.singlewindow.notifications.domain.model import (
    Notification,
    NotificationDraft,
    for_citizen,
)
from meshkit.errors import NotFound
from meshkit.messaging.uow import UnitOfWork


def utcnow() -> datetime:
    return datetime.now(UTC)


async def notify(
    uow: UnitOfWork, draft: NotificationDraft, *, source_event_id: str, now: datetime | None = None
) -> bool:
    """Add ``draft`` to the citizen's inbox in ``uow``'s transaction (idempotent per event);
    an important one is also queued for SMS (see notifications/sms.py)."""
    if not for_citizen(draft.citizen_iin):
        return False
    repo = NotificationRepository(uow.session)
    return await repo.add(draft, source_event_id=source_event_id, now=now or utcnow(), sms=True)


async def inbox(
    uow: UnitOfWork, iin: str, *, limit: int, offset: int, unread_only: bool
) -> tuple[list[Notification], int, int]:
    async with uow:
        return await NotificationRepository(uow.session).page(
            iin, limit=limit, offset=offset, unread_only=unread_only
        )


async def mark_read(uow: UnitOfWork, iin: str, ids: Sequence[int] | None) -> int:
    async with uow:
        repo = NotificationRepository(uow.session)
        if ids is not None:
            for i in ids:
                if await repo.get(iin, i) is None:
                    raise NotFound(f"no notification {i} in your inbox")
        n = await repo.mark_read(iin, ids, utcnow())
        await uow.commit()
        return n
