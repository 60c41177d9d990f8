"""A tiny sample domain (one table, one event) for testing the messaging mechanics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from meshkit.events import EventData, TypedEvent
from meshkit.messaging import HandlerRegistry, UnitOfWork, messaging_metadata

domain = MetaData()
changes = Table(
    "changes",
    domain,
    Column("id", Integer, primary_key=True),
    Column("key", String(50), nullable=False),
    Column("seq", Integer, nullable=False),
)
# deliberately no unique constraint: a doubled application must be countable
applied = Table(
    "applied",
    domain,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("change_id", Integer, nullable=False),
    Column("key", String(50), nullable=False),
    Column("seq", Integer, nullable=False),
)


class ChangeMade(EventData):
    change_id: int
    key: str
    seq: int


ChangeMade.event_type = "kz.egov.testsvc.change.made.v1"


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(domain.create_all)
        await conn.run_sync(messaging_metadata.create_all)


def handlers_recording(fail_on: set[int] | None = None) -> HandlerRegistry:
    reg = HandlerRegistry()

    @reg.on(ChangeMade)
    async def apply_change(event: TypedEvent[Any], uow: UnitOfWork) -> None:
        data: ChangeMade = event.data
        if fail_on and data.change_id in fail_on:
            raise ValueError(f"cannot apply change {data.change_id}")
        await uow.session.execute(
            insert(applied).values(change_id=data.change_id, key=data.key, seq=data.seq)
        )

    return reg


async def write_changes(uow: UnitOfWork, first_id: int, n: int, keys: int = 50) -> None:
    async with uow:
        rows = [{"id": i, "key": f"k{i % keys}", "seq": i} for i in range(first_id, first_id + n)]
        await uow.session.execute(insert(changes), rows)
        for r in rows:
            uow.emit(ChangeMade(change_id=r["id"], key=r["key"], seq=r["seq"]), subject=r["key"])
        await uow.commit()


async def applied_counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(applied))).scalar_one()
        distinct = (
            await conn.execute(select(func.count(func.distinct(applied.c.change_id))))
        ).scalar_one()
    return int(total), int(distinct)
