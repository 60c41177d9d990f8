"""Repositories: rows of the licensing tables <-> domain objects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from egov_licensing.adapters.orm import (
    application_steps,
    applications,
    license_history,
    license_types,
    licenses,
)
from egov_licensing.domain.model import (
    OPEN_STATUSES,
    Application,
    ApplicationStatus,
    CheckResult,
    License,
    LicenseStatus,
    LicenseType,
    QualificationRules,
    Requirement,
    Step,
)


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; every instant in the domain is aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    out = utc(value)
    assert out is not None
    return out


# -- license types ---------------------------------------------------------------------------
def _rules_to_json(r: QualificationRules) -> dict[str, Any]:
    return {
        "applicant_kinds": sorted(r.applicant_kinds),
        "legal_forms": sorted(r.legal_forms) if r.legal_forms is not None else None,
        "activity_codes": list(r.activity_codes),
        "min_age": r.min_age,
        "detail_fields": list(r.detail_fields),
    }


def _rules_from_json(d: dict[str, Any]) -> QualificationRules:
    return QualificationRules(
        applicant_kinds=frozenset(d.get("applicant_kinds") or ["legal_entity"]),
        legal_forms=frozenset(d["legal_forms"]) if d.get("legal_forms") is not None else None,
        activity_codes=tuple(d.get("activity_codes") or ()),
        min_age=int(d.get("min_age", 18)),
        detail_fields=tuple(d.get("detail_fields") or ()),
    )


def license_type_row(t: LicenseType) -> dict[str, Any]:
    return {
        "code": t.code,
        "name_kk": t.name_kk,
        "name_ru": t.name_ru,
        "name_en": t.name_en,
        "authority_code": t.authority_code,
        "authority_kk": t.authority_kk,
        "authority_ru": t.authority_ru,
        "authority_en": t.authority_en,
        "state_duty_tiyn": t.state_duty_tiyn,
        "kbk": t.kbk,
        "sla_working_days": t.sla_working_days,
        "validity_months": t.validity_months,
        "requirements": [asdict(r) for r in t.requirements],
        "rules": _rules_to_json(t.rules),
        "legal_basis": t.legal_basis,
        "active": t.active,
    }


def _license_type(row: RowMapping) -> LicenseType:
    return LicenseType(
        code=row["code"],
        name_kk=row["name_kk"],
        name_ru=row["name_ru"],
        name_en=row["name_en"],
        authority_code=row["authority_code"],
        authority_kk=row["authority_kk"],
        authority_ru=row["authority_ru"],
        authority_en=row["authority_en"],
        state_duty_tiyn=int(row["state_duty_tiyn"]),
        kbk=row["kbk"],
        sla_working_days=int(row["sla_working_days"]),
        validity_months=row["validity_months"],
        requirements=tuple(Requirement(**r) for r in row["requirements"]),
        rules=_rules_from_json(row["rules"]),
        legal_basis=row["legal_basis"] or "",
        active=bool(row["active"]),
    )


class LicenseTypeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, *, include_inactive: bool = False) -> list[LicenseType]:
        q = select(license_types).order_by(license_types.c.code)
        if not include_inactive:
            q = q.where(license_types.c.active.is_(True))
        return [_license_type(r) for r in (await self.session.execute(q)).mappings()]

    async def get(self, code: str) -> LicenseType | None:
        row = (
            (await self.session.execute(select(license_types).where(license_types.c.code == code)))
            .mappings()
            .first()
        )
        return _license_type(row) if row else None

    async def add_missing(self, catalogue: Iterable[LicenseType]) -> int:
        """Insert the types not yet known (an operator's later edits are kept)."""
        known = set((await self.session.execute(select(license_types.c.code))).scalars())
        rows = [license_type_row(t) for t in catalogue if t.code not in known]
        if rows:
            await self.session.execute(insert(license_types), rows)
        return len(rows)


# -- applications ------------------------------------------------------------------------------
def _steps(rows: Iterable[RowMapping]) -> list[Step]:
    return [Step(r["step"], _utc(r["at"]), r["actor"], r["reason"]) for r in rows]


def _application(row: RowMapping, steps: list[Step]) -> Application:
    return Application(
        id=row["id"],
        license_type=row["license_type"],
        applicant_iin=row["applicant_iin"],
        applicant_bin=row["applicant_bin"],
        holder_name=row["holder_name"],
        details=dict(row["details"] or {}),
        status=ApplicationStatus(row["status"]),
        submitted_at=_utc(row["submitted_at"]),
        submitted_by=row["submitted_by"],
        due_at=_utc(row["due_at"]),
        sla_working_days=int(row["sla_working_days"]),
        amount_tiyn=int(row["amount_tiyn"]),
        needs_officer=bool(row["needs_officer"]),
        checks=[CheckResult(**c) for c in row["checks"] or []],
        invoice_id=row["invoice_id"],
        paid_at=utc(row["paid_at"]),
        decided_at=utc(row["decided_at"]),
        approved=row["approved"],
        decision_reason=row["decision_reason"],
        decided_by=row["decided_by"],
        overdue_at=utc(row["overdue_at"]),
        license_number=row["license_number"],
        idempotency_key=row["idempotency_key"],
        correlation_id=row["correlation_id"],
        steps=steps,
    )


def _application_values(a: Application) -> dict[str, Any]:
    return {
        "license_type": a.license_type,
        "applicant_iin": a.applicant_iin,
        "applicant_bin": a.applicant_bin,
        "holder": a.holder,
        "holder_name": a.holder_name,
        "details": a.details,
        "status": a.status.value,
        "submitted_at": a.submitted_at,
        "submitted_by": a.submitted_by,
        "due_at": a.due_at,
        "sla_working_days": a.sla_working_days,
        "amount_tiyn": a.amount_tiyn,
        "needs_officer": a.needs_officer,
        "checks": [asdict(c) for c in a.checks],
        "invoice_id": a.invoice_id,
        "paid_at": a.paid_at,
        "decided_at": a.decided_at,
        "approved": a.approved,
        "decision_reason": a.decision_reason,
        "decided_by": a.decided_by,
        "overdue_at": a.overdue_at,
        "license_number": a.license_number,
        "idempotency_key": a.idempotency_key,
        "correlation_id": a.correlation_id,
    }


class ApplicationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, a: Application) -> None:
        await self.session.execute(insert(applications).values(id=a.id, **_application_values(a)))
        await self._flush_steps(a)

    async def save(self, a: Application) -> None:
        await self.session.execute(
            update(applications).where(applications.c.id == a.id).values(**_application_values(a))
        )
        await self._flush_steps(a)

    async def _flush_steps(self, a: Application) -> None:
        if a.new_steps:
            await self.session.execute(
                insert(application_steps),
                [
                    {
                        "application_id": a.id,
                        "step": s.step,
                        "at": s.at,
                        "actor": s.actor,
                        "reason": s.reason,
                    }
                    for s in a.new_steps
                ],
            )
            a.new_steps.clear()

    async def get(self, application_id: str, *, for_update: bool = False) -> Application | None:
        q = select(applications).where(applications.c.id == application_id)
        if for_update:  # serialises the payment handler, officers and the SLA watcher
            q = q.with_for_update()
        row = (await self.session.execute(q)).mappings().first()
        if row is None:
            return None
        steps = (
            await self.session.execute(
                select(application_steps)
                .where(application_steps.c.application_id == application_id)
                .order_by(application_steps.c.id)
            )
        ).mappings()
        return _application(row, _steps(steps))

    async def by_idempotency_key(self, submitted_by: str, key: str) -> str | None:
        return (
            await self.session.execute(
                select(applications.c.id).where(
                    applications.c.submitted_by == submitted_by,
                    applications.c.idempotency_key == key,
                )
            )
        ).scalar_one_or_none()

    async def list_ids(
        self, *, holder: str | None = None, applicant_iin: str | None = None, limit: int = 100
    ) -> list[str]:
        q = select(applications.c.id).order_by(applications.c.submitted_at.desc()).limit(limit)
        if holder is not None:
            q = q.where(applications.c.holder == holder)
        if applicant_iin is not None:
            q = q.where(applications.c.applicant_iin == applicant_iin)
        return list((await self.session.execute(q)).scalars())

    async def overdue_ids(self, now: datetime, limit: int = 500) -> list[str]:
        q = (
            select(applications.c.id)
            .where(
                applications.c.status.in_([s.value for s in OPEN_STATUSES]),
                applications.c.overdue_at.is_(None),
                applications.c.due_at < now,
            )
            .order_by(applications.c.due_at)
            .limit(limit)
        )
        return list((await self.session.execute(q)).scalars())

    async def ids_with_status(self, status: ApplicationStatus, limit: int = 100) -> list[str]:
        q = (
            select(applications.c.id)
            .where(applications.c.status == status.value)
            .order_by(applications.c.submitted_at)
            .limit(limit)
        )
        return list((await self.session.execute(q)).scalars())

    async def open_ids_for_holder(self, holder: str) -> list[str]:
        q = select(applications.c.id).where(
            applications.c.holder == holder,
            applications.c.status.in_([s.value for s in OPEN_STATUSES]),
        )
        return list((await self.session.execute(q)).scalars())

    async def stats(self, now: datetime) -> dict[str, Any]:
        by_status = {
            r[0]: int(r[1])
            for r in await self.session.execute(
                select(applications.c.status, func.count()).group_by(applications.c.status)
            )
        }
        violations = (
            await self.session.execute(
                select(func.count()).where(applications.c.overdue_at.is_not(None))
            )
        ).scalar_one()
        open_overdue = (
            await self.session.execute(
                select(func.count()).where(
                    applications.c.status.in_([s.value for s in OPEN_STATUSES]),
                    applications.c.due_at < now,
                )
            )
        ).scalar_one()
        decided_late = (
            await self.session.execute(
                select(func.count()).where(
                    applications.c.decided_at.is_not(None),
                    applications.c.decided_at > applications.c.due_at,
                )
            )
        ).scalar_one()
        decided = (
            await self.session.execute(
                select(func.count()).where(applications.c.decided_at.is_not(None))
            )
        ).scalar_one()
        return {
            "by_status": by_status,
            "total": sum(by_status.values()),
            "decided": int(decided),
            "decided_late": int(decided_late),
            "sla_violations": int(violations),
            "open_past_due": int(open_overdue),
        }


# -- licenses ---------------------------------------------------------------------------------
def _license(row: RowMapping, history: list[Step]) -> License:
    return License(
        number=row["number"],
        license_type=row["license_type"],
        holder=row["holder"],
        holder_kind=row["holder_kind"],
        holder_name=row["holder_name"],
        applicant_iin=row["applicant_iin"],
        application_id=row["application_id"],
        issued_at=_utc(row["issued_at"]),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        status=LicenseStatus(row["status"]),
        status_reason=row["status_reason"],
        status_changed_at=utc(row["status_changed_at"]),
        document=row["document"],
        history=history,
    )


def _license_values(lic: License) -> dict[str, Any]:
    return {
        "license_type": lic.license_type,
        "holder": lic.holder,
        "holder_kind": lic.holder_kind,
        "holder_name": lic.holder_name,
        "applicant_iin": lic.applicant_iin,
        "application_id": lic.application_id,
        "issued_at": lic.issued_at,
        "valid_from": lic.valid_from,
        "valid_until": lic.valid_until,
        "status": lic.status.value,
        "status_reason": lic.status_reason,
        "status_changed_at": lic.status_changed_at,
        "document": lic.document,
    }


class LicenseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_sequence(self, year: int) -> int:
        """The next license number of ``year``, atomically (one row per year)."""
        value = (
            await self.session.execute(
                text(
                    "INSERT INTO license_counters (year, last) VALUES (:year, 1) "
                    "ON CONFLICT (year) DO UPDATE SET last = license_counters.last + 1 "
                    "RETURNING last"
                ),
                {"year": year},
            )
        ).scalar_one()
        return int(value)

    async def add(self, lic: License) -> None:
        await self.session.execute(
            insert(licenses).values(number=lic.number, **_license_values(lic))
        )
        await self._flush_history(lic)

    async def save(self, lic: License) -> None:
        await self.session.execute(
            update(licenses).where(licenses.c.number == lic.number).values(**_license_values(lic))
        )
        await self._flush_history(lic)

    async def _flush_history(self, lic: License) -> None:
        if lic.new_history:
            await self.session.execute(
                insert(license_history),
                [
                    {
                        "number": lic.number,
                        "step": s.step,
                        "at": s.at,
                        "actor": s.actor,
                        "reason": s.reason,
                    }
                    for s in lic.new_history
                ],
            )
            lic.new_history.clear()

    async def get(self, number: str, *, for_update: bool = False) -> License | None:
        q = select(licenses).where(licenses.c.number == number)
        if for_update:
            q = q.with_for_update()
        row = (await self.session.execute(q)).mappings().first()
        if row is None:
            return None
        history = (
            await self.session.execute(
                select(license_history)
                .where(license_history.c.number == number)
                .order_by(license_history.c.id)
            )
        ).mappings()
        return _license(row, _steps(history))

    async def active_number(self, holder: str, license_type: str) -> str | None:
        return (
            await self.session.execute(
                select(licenses.c.number)
                .where(
                    licenses.c.holder == holder,
                    licenses.c.license_type == license_type,
                    licenses.c.status != LicenseStatus.REVOKED.value,
                )
                .limit(1)
            )
        ).scalar_one_or_none()

    async def numbers_for_holder(
        self, holder: str, statuses: Sequence[LicenseStatus] | None = None
    ) -> list[str]:
        q = select(licenses.c.number).where(licenses.c.holder == holder).order_by(licenses.c.number)
        if statuses is not None:
            q = q.where(licenses.c.status.in_([s.value for s in statuses]))
        return list((await self.session.execute(q)).scalars())

    async def unsigned_numbers(self, limit: int = 100) -> list[str]:
        q = select(licenses.c.number).where(licenses.c.document.is_(None)).limit(limit)
        return list((await self.session.execute(q)).scalars())

    async def stats(self) -> dict[str, int]:
        return {
            r[0]: int(r[1])
            for r in await self.session.execute(
                select(licenses.c.status, func.count()).group_by(licenses.c.status)
            )
        }
