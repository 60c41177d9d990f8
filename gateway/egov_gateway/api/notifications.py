"""The citizen's notification inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from egov_gateway.api.dependencies import require_citizen
from egov_gateway.singlewindow.notifications.domain.model import Notification
from egov_gateway.singlewindow.notifications.service_layer import service
from meshkit.auth.principal import Principal
from meshkit.bounds import Offset, RowId
from meshkit.problems import PROBLEM_RESPONSES
from meshkit.service import runtime_of

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses=PROBLEM_RESPONSES)


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(description="e.g. offer_made, application_completed, sla_breach")
    title: str
    body: str
    texts: dict[str, dict[str, str]] = Field(description="title and body in kk/ru/en")
    ref_type: str | None = Field(description="application | offer | invoice | payout | …")
    ref_id: str | None
    important: bool
    created_at: datetime
    read: bool
    sms: str | None = Field(description="pending | sent | failed; null when no SMS")

    @classmethod
    def of(cls, n: Notification, lang: str) -> NotificationOut:
        return cls(
            id=n.id,
            kind=n.kind,
            title=n.title.get(lang, n.title["en"]),
            body=n.body.get(lang, n.body["en"]),
            texts={"title": n.title, "body": n.body},
            ref_type=n.ref_type,
            ref_id=n.ref_id,
            important=n.important,
            created_at=n.created_at,
            read=n.read_at is not None,
            sms=n.sms_status,
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int = Field(description="unread notifications in the whole inbox")
    limit: int
    offset: int
    next_offset: int | None


class MarkReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[RowId] | None = Field(
        default=None, max_length=500, description="these notifications; omit for all"
    )


class MarkReadOut(BaseModel):
    marked: int
    unread: int


@router.get("/me/notifications", response_model=NotificationPage, summary="My inbox")
async def my_notifications(
    request: Request,
    citizen: Annotated[Principal, Depends(require_citizen)],
    unread: bool = False,
    lang: Annotated[str, Query(pattern="^(kk|ru|en)$")] = "ru",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Offset = 0,
) -> NotificationPage:
    items, total, unread_count = await service.inbox(
        runtime_of(request).uow_factory(),
        citizen.subject,
        limit=limit,
        offset=offset,
        unread_only=unread,
    )
    return NotificationPage(
        items=[NotificationOut.of(n, lang) for n in items],
        total=total,
        unread=unread_count,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if offset + limit < total else None,
    )


@router.post(
    "/me/notifications/read", response_model=MarkReadOut, summary="Mark notifications read"
)
async def mark_read(
    request: Request,
    citizen: Annotated[Principal, Depends(require_citizen)],
    body: MarkReadIn,
) -> MarkReadOut:
    marked = await service.mark_read(runtime_of(request).uow_factory(), citizen.subject, body.ids)
    _, _, unread = await service.inbox(
        runtime_of(request).uow_factory(), citizen.subject, limit=1, offset=0, unread_only=True
    )
    return MarkReadOut(marked=marked, unread=unread)
