"""What the single window shows of an application (pydantic models at the boundary), and the
applications' timings the efficiency figures are computed from (:func:`timings`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from egov_gateway.singlewindow.applications.adapters.tables import applications as apps
from egov_gateway.singlewindow.applications.domain.model import Application


class TimelineItem(BaseModel):
    at: datetime
    actor: str = Field(description="who acted: gateway, an agency, or applicant:<IIN>")
    kind: str = Field(description="submitted, status, step_started, step_done, step_failed, …")
    step: str | None = None
    status: str | None = None
    reason: str | None = None


class StepView(BaseModel):
    name: str
    operation: str
    status: str
    attempts: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    request: dict[str, Any] | None = Field(
        default=None, description="the last call: agency, method, path, body, request id"
    )
    result: Any = None
    event: dict[str, Any] | None = None


class ChannelView(BaseModel):
    """Where the application was made when not by the citizen online (a centre)."""

    kind: str = Field(description="centre: at a public service centre, by an operator")
    centre: str | None = Field(default=None, description="the centre's code")
    operator: str | None = Field(default=None, description="the operator's IIN")
    consent_id: str | None = Field(
        default=None, description="the citizen's consent (by a one-time code to their phone)"
    )
    consented_at: datetime | None = None


class ApplicationSummary(BaseModel):
    id: str
    service_code: str
    kind: str
    status: str
    origin: str
    channel: ChannelView | None = None
    submitted_at: datetime
    due_at: datetime
    completed_at: datetime | None = None
    overdue: bool = Field(description="the SLA term passed without a result (a term violation)")
    failure_reason: str | None = None
    rating: int | None = None


class ApplicationView(ApplicationSummary):
    applicant_iin: str
    payload: dict[str, Any]
    result: Any = None
    rating_comment: str | None = None
    steps: list[StepView]
    timeline: list[TimelineItem]


class ApplicationList(BaseModel):
    items: list[ApplicationSummary]
    limit: int
    offset: int


def summary(app: Application) -> ApplicationSummary:
    return ApplicationSummary(
        id=app.id,
        service_code=app.service_code,
        kind=app.kind,
        status=app.status,
        origin=app.origin,
        channel=ChannelView.model_validate(app.context["channel"])
        if isinstance(app.context.get("channel"), dict)
        else None,
        submitted_at=app.submitted_at,
        due_at=app.due_at,
        completed_at=app.completed_at,
        overdue=app.overdue_at is not None,
        failure_reason=app.failure_reason,
        rating=app.rating,
    )


def view(app: Application) -> ApplicationView:
    return ApplicationView(
        **summary(app).model_dump(),
        applicant_iin=app.applicant_iin,
        payload=app.payload,
        result=app.result,
        rating_comment=app.rating_comment,
        steps=[
            StepView(
                name=s.name,
                operation=s.operation,
                status=s.status,
                attempts=s.attempts,
                started_at=s.started_at,
                finished_at=s.finished_at,
                error=s.error,
                request=s.request,
                result=s.result,
                event=s.event,
            )
            for s in app.steps
        ],
        timeline=[
            TimelineItem(
                at=t.at, actor=t.actor, kind=t.kind, step=t.step, status=t.status, reason=t.reason
            )
            for t in app.timeline
        ],
    )


@dataclass(frozen=True)
class Timing:
    """One application's service, agency, origin, status, clocks and rating: no personal data."""

    service_code: str
    agency: str
    origin: str
    status: str
    submitted_at: datetime
    due_at: datetime
    completed_at: datetime | None
    overdue_at: datetime | None
    rating: int | None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def timings(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    agency: str | None = None,
    service: str | None = None,
) -> list[Timing]:
    """Applications submitted in ``[start, end)``, optionally of one agency or service."""
    stmt = select(
        apps.c.service_code,
        apps.c.agency,
        apps.c.origin,
        apps.c.status,
        apps.c.submitted_at,
        apps.c.due_at,
        apps.c.completed_at,
        apps.c.overdue_at,
        apps.c.rating,
    ).where(apps.c.submitted_at >= start, apps.c.submitted_at < end)
    if agency:
        stmt = stmt.where(apps.c.agency == agency)
    if service:
        stmt = stmt.where(apps.c.service_code == service)
    out: list[Timing] = []
    for r in (await session.execute(stmt)).all():
        submitted, due = _utc(r[4]), _utc(r[5])
        assert submitted is not None and due is not None
        out.append(Timing(r[0], r[1], r[2], r[3], submitted, due, _utc(r[6]), _utc(r[7]), r[8]))
    return out


# -- what other areas ask of applications (offers) -------------------------------------------
async def applicant_of(session: AsyncSession, application_id: str | None) -> str | None:
    if not application_id:
        return None
    found = await session.scalar(select(apps.c.applicant_iin).where(apps.c.id == application_id))
    return str(found) if found else None


async def payload_of(session: AsyncSession, application_id: str) -> dict[str, Any] | None:
    found = await session.scalar(select(apps.c.payload).where(apps.c.id == application_id))
    return dict(found) if isinstance(found, dict) else None


async def has_applied(
    session: AsyncSession,
    iin: str,
    services: Collection[str],
    *,
    since: datetime,
    correlated_application: str | None,
) -> bool:
    """Has ``iin`` applied for one of ``services`` for this event (the application that
    caused it) or recently (since ``since``), short of a failed application?"""
    if not services:
        return False
    recent = apps.c.submitted_at >= since
    cond = (
        recent
        if correlated_application is None
        else or_(recent, apps.c.id == correlated_application)
    )
    found = await session.scalar(
        select(apps.c.id)
        .where(
            apps.c.applicant_iin == iin,
            apps.c.service_code.in_(list(services)),
            apps.c.status != "failed",
            cond,
        )
        .limit(1)
    )
    return found is not None
