"""Service layer of the efficiency figures: read the gateway's own records for a period.

Applications (the single window), the audit log (agency→agency calls actually made), the
register's grants (calls allowed) and its outage intervals (technical failures). No personal
data leaves this module: only counts, durations and codes of agencies and services.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from egov_gateway.adapters.audit_tables import audit_log
from egov_gateway.register.service_layer.register import OutageReport, UnifiedRegister
from egov_gateway.singlewindow.applications.adapters.tables import applications as apps
from egov_gateway.singlewindow.stats.model import ApplicationFact, Figures, figures
from meshkit.errors import RuleViolation
from meshkit.messaging.uow import UnitOfWork

NOT_AGENCIES = frozenset({"citizen", "operator", "anonymous", "gateway"})


@dataclass(frozen=True)
class StatsQuery:
    start: datetime
    end: datetime
    agency: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class Integration:
    client: str
    agency: str
    operation_id: str
    calls: int


@dataclass(frozen=True)
class Integrations:
    used: list[Integration]
    granted: int

    @property
    def used_count(self) -> int:
        return len(self.used)


@dataclass(frozen=True)
class Report:
    query: StatsQuery
    overall: Figures
    by_service: dict[str, Figures]
    by_agency: dict[str, Figures]
    outages: OutageReport
    integrations: Integrations


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _us(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000)


def check_query(q: StatsQuery, register: UnifiedRegister) -> None:
    errors: dict[str, str] = {}
    if q.end <= q.start:
        errors["to"] = "must be after from"
    snap = register.snapshot
    if q.agency is not None and q.agency not in snap.members:
        errors["agency"] = f"no member {q.agency!r} in the register"
    if q.service is not None and q.service not in snap.services:
        errors["service"] = f"no service {q.service!r} in the register"
    if errors:
        raise RuleViolation("the period or filters are not valid", errors=errors)


async def _facts(uow: UnitOfWork, q: StatsQuery) -> list[ApplicationFact]:
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
    ).where(apps.c.submitted_at >= q.start, apps.c.submitted_at < q.end)
    if q.agency:
        stmt = stmt.where(apps.c.agency == q.agency)
    if q.service:
        stmt = stmt.where(apps.c.service_code == q.service)
    out: list[ApplicationFact] = []
    for r in (await uow.session.execute(stmt)).all():
        submitted, due = _utc(r[4]), _utc(r[5])
        assert submitted is not None and due is not None
        out.append(
            ApplicationFact(
                service_code=r[0],
                agency=r[1],
                origin=r[2],
                status=r[3],
                submitted_at=submitted,
                due_at=due,
                completed_at=_utc(r[6]),
                overdue_at=_utc(r[7]),
                rating=r[8],
            )
        )
    return out


async def _integrations(uow: UnitOfWork, q: StatsQuery, register: UnifiedRegister) -> Integrations:
    snap = register.snapshot
    agencies = set(snap.members) - NOT_AGENCIES
    stmt = select(audit_log.c.client, audit_log.c.agency, audit_log.c.operation_id).where(
        audit_log.c.outcome == "forwarded",
        audit_log.c.at_us >= _us(q.start),
        audit_log.c.at_us < _us(q.end),
        audit_log.c.client.in_(sorted(agencies)),
        audit_log.c.operation_id.is_not(None),
    )
    if q.agency:
        stmt = stmt.where((audit_log.c.client == q.agency) | (audit_log.c.agency == q.agency))
    counts: Counter[tuple[str, str, str]] = Counter()
    for client, agency, op in (await uow.session.execute(stmt)).all():
        if client != agency:
            counts[(client, agency, op)] += 1
    used = [
        Integration(client=c, agency=a, operation_id=op, calls=n)
        for (c, a, op), n in sorted(counts.items())
    ]
    granted = sum(
        1
        for client, op in snap.grants
        if client in agencies
        and (q.agency is None or client == q.agency or op.startswith(f"{q.agency}:"))
    )
    return Integrations(used=used, granted=granted)


async def report(uow: UnitOfWork, register: UnifiedRegister, q: StatsQuery) -> Report:
    check_query(q, register)
    now = datetime.now(UTC)
    async with uow:
        facts = await _facts(uow, q)
        integrations = await _integrations(uow, q, register)
    services = sorted({f.service_code for f in facts})
    agencies = sorted({f.agency for f in facts})
    outages = await register.outage_report(q.start, q.end, agency=q.agency, service=q.service)
    if q.service:  # a service's failures are those of the agencies it depends on
        deps = register.snapshot.services[q.service].agencies
        outages = OutageReport(
            q.start, q.end, [a for a in outages.agencies if a.key in deps], outages.services
        )
    return Report(
        query=q,
        overall=figures(facts, now),
        by_service={s: figures((f for f in facts if f.service_code == s), now) for s in services},
        by_agency={a: figures((f for f in facts if f.agency == a), now) for a in agencies},
        outages=outages,
        integrations=integrations,
    )
