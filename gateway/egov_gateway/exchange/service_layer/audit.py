"""Audit use cases: search (operators), chain verification, a citizen's data-access view."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from egov_gateway.audit import store
from egov_gateway.audit.store import AuditQuery
from egov_gateway.audit.writer import AuditWriter
from egov_gateway.domain.audit import AuditRecord, BrokenLink


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    records_checked: int
    first_broken: BrokenLink | None
    chains: dict[str, int]  # instance → records checked


async def search(engine: AsyncEngine, query: AuditQuery) -> list[AuditRecord]:
    return await store.search(engine, query)


async def verify(engine: AsyncEngine, writer: AuditWriter | None) -> ChainReport:
    expected = {writer.instance_id: writer.head.seq} if writer is not None else None
    verifiers = await store.verify(engine, expected_heads=expected)
    broken = next((v.broken for v in verifiers if v.broken is not None), None)
    return ChainReport(
        ok=broken is None,
        records_checked=sum(v.checked for v in verifiers),
        first_broken=broken,
        chains={v.instance_id: v.checked for v in verifiers},
    )


async def data_access(
    engine: AsyncEngine, iin: str, *, limit: int, offset: int
) -> list[AuditRecord]:
    """Every routed call whose data subject is this person (who, when, what, why)."""
    return await store.search(engine, AuditQuery(subject=iin, limit=limit, offset=offset))
