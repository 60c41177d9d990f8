"""Service layer of the efficiency figures: ask the owners' read models for a period.

Applications' timings (:func:`~egov_gateway.singlewindow.applications.service_layer.views.timings`),
the integrations actually used (the exchange's audit log:
:func:`~egov_gateway.exchange.service_layer.audit.calls_between_agencies`), the register's
grants (calls allowed) and its outage intervals (technical failures). No table of another
area is read here, and no personal data leaves: only counts, durations and codes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from egov_gateway.exchange.service_layer.audit import calls_between_agencies
from egov_gateway.register.service_layer.register import OutageReport, UnifiedRegister
from egov_gateway.singlewindow.applications.service_layer.views import timings
from egov_gateway.singlewindow.stats.domain.model import ApplicationFact, Figures, figures
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
    rows = await timings(uow.session, q.start, q.end, agency=q.agency, service=q.service)
    return [ApplicationFact(**dataclasses.asdict(r)) for r in rows]


async def _integrations(uow: UnitOfWork, q: StatsQuery, register: UnifiedRegister) -> Integrations:
    snap = register.snapshot
    agencies = set(snap.members) - NOT_AGENCIES
    counts = await calls_between_agencies(
        uow.session, _us(q.start), _us(q.end), clients=agencies, agency=q.agency
    )
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
