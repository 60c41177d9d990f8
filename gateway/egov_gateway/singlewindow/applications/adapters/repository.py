"""SQL repository of applications (SQLAlchemy Core on the unit of work's session)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from egov_gateway.singlewindow.applications.adapters.tables import (
    applications,
    steps,
    timeline,
    waits,
)
from egov_gateway.singlewindow.applications.domain.model import (
    Application,
    ConcurrentUpdate,
    Step,
    TimelineEntry,
)

ACTIVE = ("submitted", "in_progress", "waiting", "compensating")


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written in UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _must(value: datetime | None) -> datetime:
    out = _utc(value)
    assert out is not None
    return out


class ApplicationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- reads --------------------------------------------------------------------------
    async def get(self, application_id: str, *, with_timeline: bool = True) -> Application | None:
        row = (
            (
                await self.session.execute(
                    select(applications).where(applications.c.id == application_id)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        step_rows = (
            (
                await self.session.execute(
                    select(steps)
                    .where(steps.c.application_id == application_id)
                    .order_by(steps.c.seq)
                )
            )
            .mappings()
            .all()
        )
        entries: list[TimelineEntry] = []
        if with_timeline:
            entries = [
                TimelineEntry(
                    _must(t["at"]), t["actor"], t["kind"], t["step"], t["status"], t["reason"]
                )
                for t in (
                    await self.session.execute(
                        select(timeline)
                        .where(timeline.c.application_id == application_id)
                        .order_by(timeline.c.id)
                    )
                ).mappings()
            ]
        app = self._application(row, [self._step(s) for s in step_rows])
        app.timeline = entries
        app.persisted_timeline = len(entries) if with_timeline else -1
        return app

    async def list_for(self, applicant_iin: str, *, limit: int, offset: int) -> list[Application]:
        rows = (
            (
                await self.session.execute(
                    select(applications)
                    .where(applications.c.applicant_iin == applicant_iin)
                    .order_by(applications.c.submitted_at.desc(), applications.c.id)
                    .limit(limit)
                    .offset(offset)
                )
            )
            .mappings()
            .all()
        )
        return [self._application(r, []) for r in rows]

    async def active_ids(self) -> list[str]:
        """Applications the engine can move on (``waiting`` ones move on an agency event)."""
        rows = await self.session.execute(
            select(applications.c.id).where(
                applications.c.status.in_([s for s in ACTIVE if s != "waiting"])
            )
        )
        return [r[0] for r in rows]

    async def overdue_ids(self, now: datetime) -> list[str]:
        rows = await self.session.execute(
            select(applications.c.id).where(
                applications.c.status.in_(ACTIVE),
                applications.c.due_at < now,
                applications.c.overdue_at.is_(None),
            )
        )
        return [r[0] for r in rows]

    async def waiting_for(self, event_type: str, keys: Iterable[str]) -> list[tuple[str, int]]:
        wanted = [k[:200] for k in keys if k]
        if not wanted:
            return []
        rows = await self.session.execute(
            select(waits.c.application_id, waits.c.seq)
            .where(waits.c.event_type == event_type, waits.c.match_key.in_(wanted))
            .distinct()
        )
        return [(r[0], int(r[1])) for r in rows]

    # -- writes -------------------------------------------------------------------------
    async def add(self, app: Application) -> None:
        await self.session.execute(insert(applications).values(**self._row(app), version=1))
        app.version = 1
        await self._write_children(app, new=True)

    async def save(self, app: Application) -> None:
        """Write the application if nobody changed it since it was read (else ConcurrentUpdate)."""
        result = await self.session.execute(
            update(applications)
            .where(applications.c.id == app.id, applications.c.version == app.version)
            .values(**self._row(app), version=app.version + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(f"application {app.id} changed concurrently")
        app.version += 1
        await self._write_children(app, new=False)

    async def _write_children(self, app: Application, *, new: bool) -> None:
        if not new:
            await self.session.execute(delete(steps).where(steps.c.application_id == app.id))
        await self.session.execute(
            insert(steps),
            [
                {
                    "application_id": app.id,
                    "seq": s.seq,
                    "name": s.name,
                    "operation": s.operation,
                    "status": s.status,
                    "request": s.request,
                    "result": s.result,
                    "event": s.event,
                    "error": s.error,
                    "attempts": s.attempts,
                    "started_at": s.started_at,
                    "finished_at": s.finished_at,
                }
                for s in app.steps
            ],
        )
        start = max(app.persisted_timeline, 0)
        fresh = app.timeline[start:] if app.persisted_timeline >= 0 else app.timeline
        if fresh:
            await self.session.execute(
                insert(timeline),
                [
                    {
                        "application_id": app.id,
                        "at": t.at,
                        "actor": t.actor,
                        "kind": t.kind,
                        "step": t.step,
                        "status": t.status,
                        "reason": t.reason,
                    }
                    for t in fresh
                ],
            )
        if app.persisted_timeline >= 0:
            app.persisted_timeline = len(app.timeline)
        else:
            app.timeline = []
        if app.done_waits:
            await self.session.execute(
                delete(waits).where(
                    waits.c.application_id == app.id, waits.c.seq.in_(sorted(app.done_waits))
                )
            )
        fresh_waits = [w for w in app.new_waits if w.seq not in app.done_waits]
        if fresh_waits:
            existing = {
                (r[0], r[1], int(r[2]))
                for r in await self.session.execute(
                    select(waits.c.event_type, waits.c.match_key, waits.c.seq).where(
                        waits.c.application_id == app.id,
                        or_(
                            *[
                                and_(
                                    waits.c.event_type == w.event_type,
                                    waits.c.match_key == w.match_key,
                                )
                                for w in fresh_waits
                            ]
                        ),
                    )
                )
            }
            rows = [
                {
                    "event_type": w.event_type,
                    "match_key": w.match_key,
                    "application_id": app.id,
                    "seq": w.seq,
                    "created_at": app.updated_at,
                }
                for w in fresh_waits
                if (w.event_type, w.match_key, w.seq) not in existing
            ]
            if rows:
                await self.session.execute(insert(waits), rows)
        app.new_waits = []
        app.done_waits = set()

    # -- mapping ------------------------------------------------------------------------
    @staticmethod
    def _row(app: Application) -> dict[str, Any]:
        return {
            "id": app.id,
            "service_code": app.service_code,
            "agency": app.agency,
            "kind": app.kind,
            "applicant_iin": app.applicant_iin,
            "origin": app.origin,
            "status": app.status,
            "payload": app.payload,
            "context": app.context,
            "result": app.result,
            "failure_reason": app.failure_reason,
            "submitted_at": app.submitted_at,
            "due_at": app.due_at,
            "completed_at": app.completed_at,
            "overdue_at": app.overdue_at,
            "rating": app.rating,
            "rating_comment": app.rating_comment,
            "rated_at": app.rated_at,
            "updated_at": app.updated_at,
        }

    @staticmethod
    def _step(r: Any) -> Step:
        return Step(
            seq=int(r["seq"]),
            name=r["name"],
            operation=r["operation"],
            status=r["status"],
            request=r["request"],
            result=r["result"],
            event=r["event"],
            error=r["error"],
            attempts=int(r["attempts"]),
            started_at=_utc(r["started_at"]),
            finished_at=_utc(r["finished_at"]),
        )

    @staticmethod
    def _application(r: Any, step_list: list[Step]) -> Application:
        return Application(
            id=r["id"],
            service_code=r["service_code"],
            agency=r["agency"],
            kind=r["kind"],
            applicant_iin=r["applicant_iin"],
            origin=r["origin"],
            status=r["status"],
            payload=r["payload"],
            submitted_at=_must(r["submitted_at"]),
            due_at=_must(r["due_at"]),
            updated_at=_must(r["updated_at"]),
            steps=step_list,
            context=r["context"] or {},
            result=r["result"],
            failure_reason=r["failure_reason"],
            completed_at=_utc(r["completed_at"]),
            overdue_at=_utc(r["overdue_at"]),
            rating=r["rating"],
            rating_comment=r["rating_comment"],
            rated_at=_utc(r["rated_at"]),
            version=int(r["version"]),
        )


__all__ = ["ACTIVE", "ApplicationRepository"]
