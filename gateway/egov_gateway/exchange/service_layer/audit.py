"""Audit use cases: search (operators), chain verification, a citizen's data-access view, and
the integrations actually used (the efficiency figures' read model of the audit log)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from egov_gateway.exchange.adapters import audit_store as store
from egov_gateway.exchange.adapters.audit_store import AuditQuery
from egov_gateway.exchange.adapters.audit_tables import audit_log
from egov_gateway.exchange.adapters.audit_writer import AuditWriter
from egov_gateway.exchange.domain.audit import AuditRecord, BrokenLink


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


async def calls_between_agencies(
    session: AsyncSession,
    start_us: int,
    end_us: int,
    *,
    clients: Collection[str],
    agency: str | None = None,
) -> Counter[tuple[str, str, str]]:
    """Forwarded calls of one agency to another in ``[start_us, end_us)``, counted per
    (client, agency, operation): the exchange's read model of integrations actually used."""
    stmt = select(audit_log.c.client, audit_log.c.agency, audit_log.c.operation_id).where(
        audit_log.c.outcome == "forwarded",
        audit_log.c.at_us >= start_us,
        audit_log.c.at_us < end_us,
        audit_log.c.client.in_(sorted(clients)),
        audit_log.c.operation_id.is_not(None),
    )
    if agency:
        stmt = stmt.where((audit_log.c.client == agency) | (audit_log.c.agency == agency))
    counts: Counter[tuple[str, str, str]] = Counter()
    for client, to, op in (await session.execute(stmt)).all():
        if client != to:
            counts[(client, to, op)] += 1
    return counts
