"""Reading and writing the audit log table (SQLAlchemy Core; SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from egov_gateway.exchange.adapters.audit_tables import audit_log
from egov_gateway.exchange.domain.audit import AuditRecord, ChainHead, ChainVerifier

VERIFY_PAGE = 5000


@dataclass(frozen=True)
class AuditQuery:
    request_id: str | None = None
    client: str | None = None
    subject: str | None = None
    from_us: int | None = None
    to_us: int | None = None
    limit: int = 50
    offset: int = 0


async def load_head(conn: AsyncConnection, instance_id: str) -> ChainHead:
    row = (
        await conn.execute(
            select(audit_log.c.seq, audit_log.c.hash)
            .where(audit_log.c.instance_id == instance_id)
            .order_by(audit_log.c.seq.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return ChainHead(instance_id)
    return ChainHead(instance_id, int(row.seq), str(row.hash))


async def insert_records(conn: AsyncConnection, records: Sequence[AuditRecord]) -> None:
    # one statement for the whole batch (insertmanyvalues on both backends)
    await conn.execute(insert(audit_log), [r.as_row() for r in records])


async def search(engine: AsyncEngine, q: AuditQuery) -> list[AuditRecord]:
    stmt = select(audit_log)
    if q.request_id:
        stmt = stmt.where(audit_log.c.request_id == q.request_id)
    if q.client:
        stmt = stmt.where(audit_log.c.client == q.client)
    if q.subject:
        stmt = stmt.where(audit_log.c.subject == q.subject)
    if q.from_us is not None:
        stmt = stmt.where(audit_log.c.at_us >= q.from_us)
    if q.to_us is not None:
        stmt = stmt.where(audit_log.c.at_us < q.to_us)
    stmt = stmt.order_by(audit_log.c.at_us.desc(), audit_log.c.instance_id, audit_log.c.seq.desc())
    stmt = stmt.limit(q.limit).offset(q.offset)
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [AuditRecord.from_row(r) for r in rows]


async def _instances(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(select(audit_log.c.instance_id).distinct())
    return sorted(str(r[0]) for r in rows)


async def _pages(conn: AsyncConnection, instance_id: str) -> AsyncIterator[list[AuditRecord]]:
    after = 0
    while True:
        rows = (
            (
                await conn.execute(
                    select(audit_log)
                    .where(audit_log.c.instance_id == instance_id, audit_log.c.seq > after)
                    .order_by(audit_log.c.seq)
                    .limit(VERIFY_PAGE)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        page = [AuditRecord.from_row(r) for r in rows]
        yield page
        after = page[-1].seq


async def verify(
    engine: AsyncEngine, *, expected_heads: dict[str, int] | None = None
) -> list[ChainVerifier]:
    """Walk every instance's chain; ``expected_heads`` are heads this process committed."""
    verifiers: list[ChainVerifier] = []
    async with engine.connect() as conn:
        instances = set(await _instances(conn)) | set(expected_heads or {})
        for instance_id in sorted(instances):
            v = ChainVerifier(instance_id)
            async for page in _pages(conn, instance_id):
                if not v.feed(page):
                    break
            if expected_heads and instance_id in expected_heads:
                v.expect_head(expected_heads[instance_id])
            verifiers.append(v)
    return verifiers


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(audit_log))).scalar_one())
