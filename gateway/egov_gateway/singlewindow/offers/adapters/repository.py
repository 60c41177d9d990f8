"""Persistence of offers (what offers ask of applications: the applications' read model)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from egov_gateway.singlewindow.offers.adapters.tables import offers as t
from egov_gateway.singlewindow.offers.domain.model import Offer


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _from(row: Mapping[Any, Any]) -> Offer:
    return Offer(
        id=row["id"],
        citizen_iin=row["citizen_iin"],
        service_code=row["service_code"],
        rule_code=row["rule_code"],
        trigger_event_id=row["trigger_event_id"],
        trigger_event_type=row["trigger_event_type"],
        payload=dict(row["payload"]),
        title=dict(row["title"]),
        citizen_supplies=list(row["citizen_supplies"]),
        exclusive=bool(row["exclusive"]),
        status=row["status"],
        created_at=_utc(row["created_at"]),
        expires_at=_utc(row["expires_at"]),
        decided_at=_utc(row["decided_at"]) if row["decided_at"] else None,
        application_id=row["application_id"],
    )


def _row(o: Offer) -> dict[str, Any]:
    return {
        "id": o.id,
        "citizen_iin": o.citizen_iin,
        "service_code": o.service_code,
        "rule_code": o.rule_code,
        "trigger_event_id": o.trigger_event_id,
        "trigger_event_type": o.trigger_event_type,
        "payload": o.payload,
        "title": o.title,
        "citizen_supplies": o.citizen_supplies,
        "exclusive": o.exclusive,
        "status": o.status,
        "created_at": o.created_at,
        "expires_at": o.expires_at,
        "decided_at": o.decided_at,
        "application_id": o.application_id,
    }


class OfferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, trigger_event_id: str, rule_code: str, citizen_iin: str) -> bool:
        found = await self.session.scalar(
            select(t.c.id).where(
                t.c.trigger_event_id == trigger_event_id,
                t.c.rule_code == rule_code,
                t.c.citizen_iin == citizen_iin,
            )
        )
        return found is not None

    async def add(self, offer: Offer) -> None:
        await self.session.execute(t.insert().values(**_row(offer)))

    async def get(self, offer_id: str, *, for_update: bool = False) -> Offer | None:
        stmt = select(t).where(t.c.id == offer_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _from(row) if row else None

    async def save(self, offer: Offer) -> None:
        values = _row(offer)
        del values["id"]
        await self.session.execute(update(t).where(t.c.id == offer.id).values(**values))

    async def alternatives(self, offer: Offer) -> list[Offer]:
        rows = await self.session.execute(
            select(t).where(
                t.c.trigger_event_id == offer.trigger_event_id,
                t.c.rule_code == offer.rule_code,
                t.c.id != offer.id,
            )
        )
        return [_from(r) for r in rows.mappings()]

    async def open_for(self, iin: str, service_code: str) -> list[Offer]:
        rows = await self.session.execute(
            select(t).where(
                t.c.citizen_iin == iin, t.c.service_code == service_code, t.c.status == "offered"
            )
        )
        return [_from(r) for r in rows.mappings()]

    async def page(
        self, iin: str, *, statuses: Collection[str] | None, limit: int, offset: int
    ) -> tuple[list[Offer], int]:
        where = [t.c.citizen_iin == iin]
        if statuses:
            where.append(t.c.status.in_(list(statuses)))
        rows = await self.session.execute(
            select(t)
            .where(*where)
            .order_by(t.c.created_at.desc(), t.c.id)
            .limit(limit)
            .offset(offset)
        )
        total = int(
            await self.session.scalar(select(func.count()).select_from(t).where(*where)) or 0
        )
        return [_from(r) for r in rows.mappings()], total

    async def expire_due(self, iin: str, now: datetime) -> int:
        result = await self.session.execute(
            update(t)
            .where(t.c.citizen_iin == iin, t.c.status == "offered", t.c.expires_at <= now)
            .values(status="expired", decided_at=t.c.expires_at)
        )
        return int(getattr(result, "rowcount", 0) or 0)
