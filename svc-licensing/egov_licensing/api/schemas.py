"""Request and response shapes of the licensing API (pydantic v2)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from egov_licensing.domain.model import Application, License, LicenseType, Step
from meshkit.contracts.common import Currency
from meshkit.ids import BIN, IIN


class Names(BaseModel):
    kk: str
    ru: str
    en: str


class Authority(Names):
    code: str


class RequirementOut(Names):
    code: str
    automatic: bool = Field(description="checked against state databases, not by an officer")


class LicenseTypeOut(BaseModel):
    code: str
    name: Names
    authority: Authority
    requirements: list[RequirementOut]
    state_duty_tiyn: int = Field(description="license fee in tiyn (1 KZT = 100 tiyn)")
    currency: Currency = "KZT"
    kbk: str = Field(description="budget classification code the duty is paid to")
    sla_working_days: int
    validity_months: int | None = Field(description="null: the license is unlimited")
    unlimited: bool
    applicant_kinds: list[str]
    legal_forms: list[str] | None
    activity_codes: list[str] = Field(description="OKED prefixes the entity must carry")
    min_age: int
    detail_fields: list[str] = Field(description="keys the application `details` must fill in")
    legal_basis: str

    @classmethod
    def of(cls, t: LicenseType) -> LicenseTypeOut:
        return cls(
            code=t.code,
            name=Names(kk=t.name_kk, ru=t.name_ru, en=t.name_en),
            authority=Authority(
                code=t.authority_code, kk=t.authority_kk, ru=t.authority_ru, en=t.authority_en
            ),
            requirements=[
                RequirementOut(
                    code=r.code, kk=r.text_kk, ru=r.text_ru, en=r.text_en, automatic=r.automatic
                )
                for r in t.requirements
            ],
            state_duty_tiyn=t.state_duty_tiyn,
            kbk=t.kbk,
            sla_working_days=t.sla_working_days,
            validity_months=t.validity_months,
            unlimited=t.validity_months is None,
            applicant_kinds=sorted(t.rules.applicant_kinds),
            legal_forms=sorted(t.rules.legal_forms) if t.rules.legal_forms is not None else None,
            activity_codes=list(t.rules.activity_codes),
            min_age=t.rules.min_age,
            detail_fields=list(t.rules.detail_fields),
            legal_basis=t.legal_basis,
        )


# -- applications -----------------------------------------------------------------------------
class ApplicationCreate(BaseModel):
    license_type: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$", examples=["PHARMACY"])
    applicant_iin: IIN = Field(description="the person applying (for a business: its director)")
    applicant_bin: BIN | None = Field(
        default=None, description="the legal entity that will hold the license"
    )
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="type-specific facts (see the type's detail_fields)",
        examples=[
            {"premises_address": "Алматы қ., Абай даңғылы, 10", "pharmacist_iin": "900115300122"}
        ],
    )

    @field_validator("details")
    @classmethod
    def _small(cls, v: dict[str, Any]) -> dict[str, Any]:
        if len(v) > 50 or len(json.dumps(v, ensure_ascii=False)) > 8000:
            raise ValueError("details are limited to 50 keys and 8000 characters")
        return v


class StepOut(BaseModel):
    step: str
    at: datetime
    actor: str
    reason: str | None = None

    @classmethod
    def of(cls, s: Step) -> StepOut:
        return cls(step=s.step, at=s.at, actor=s.actor, reason=s.reason)


class CheckOut(BaseModel):
    code: str
    outcome: Literal["passed", "failed", "officer"]
    detail: str
    source: str


class StateDuty(BaseModel):
    amount_tiyn: int
    currency: Currency = "KZT"
    invoice_id: str | None = None
    paid_at: datetime | None = None


class Sla(BaseModel):
    working_days: int
    due_at: datetime = Field(description="end of the last working day, Asia/Almaty (UTC+5)")
    overdue: bool = Field(description="past due without a decision (now or when decided)")
    violation_recorded_at: datetime | None = Field(
        default=None, description="when the SLA watcher recorded and published the violation"
    )
    decided_in_time: bool | None = None


class Decision(BaseModel):
    approved: bool
    reason: str | None
    decided_at: datetime | None
    decided_by: str | None


class ApplicationOut(BaseModel):
    id: str
    license_type: str
    applicant_iin: str
    applicant_bin: str | None
    holder: str
    holder_name: str | None
    status: str
    submitted_at: datetime
    submitted_by: str
    details: dict[str, Any]
    state_duty: StateDuty
    sla: Sla
    needs_officer: bool
    checks: list[CheckOut]
    decision: Decision | None
    license_number: str | None
    timeline: list[StepOut]

    @classmethod
    def of(cls, a: Application, now: datetime) -> ApplicationOut:
        overdue = a.overdue_at is not None or (a.is_open and now > a.due_at)
        return cls(
            id=a.id,
            license_type=a.license_type,
            applicant_iin=a.applicant_iin,
            applicant_bin=a.applicant_bin,
            holder=a.holder,
            holder_name=a.holder_name,
            status=a.status.value,
            submitted_at=a.submitted_at,
            submitted_by=a.submitted_by,
            details=a.details,
            state_duty=StateDuty(
                amount_tiyn=a.amount_tiyn, invoice_id=a.invoice_id, paid_at=a.paid_at
            ),
            sla=Sla(
                working_days=a.sla_working_days,
                due_at=a.due_at,
                overdue=overdue,
                violation_recorded_at=a.overdue_at,
                decided_in_time=a.decided_in_time,
            ),
            needs_officer=a.needs_officer,
            checks=[
                CheckOut(code=c.code, outcome=c.outcome, detail=c.detail, source=c.source)
                for c in a.checks
            ],
            decision=(
                Decision(
                    approved=bool(a.approved),
                    reason=a.decision_reason,
                    decided_at=a.decided_at,
                    decided_by=a.decided_by,
                )
                if a.decided_at is not None
                else None
            ),
            license_number=a.license_number,
            timeline=[StepOut.of(s) for s in a.steps],
        )


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(
        min_length=3, max_length=2000, examples=["Помещение соответствует требованиям"]
    )


class ReasonIn(BaseModel):
    reason: str = Field(min_length=3, max_length=2000, examples=["Нарушение санитарных требований"])


# -- licenses ---------------------------------------------------------------------------------
class PublicLicenseOut(BaseModel):
    number: str
    license_type: str
    license_type_name: Names | None
    authority: Authority | None
    holder: str
    holder_kind: str
    holder_name: str | None
    status: Literal["active", "suspended", "revoked", "expired"]
    status_reason: str | None
    status_changed_at: datetime | None
    in_force: bool
    issued_at: datetime
    valid_from: date
    valid_until: date | None = Field(description="null: unlimited")

    @classmethod
    def of(cls, lic: License, lt: LicenseType | None, today: date) -> PublicLicenseOut:
        status = lic.effective_status(today)
        return cls(
            number=lic.number,
            license_type=lic.license_type,
            license_type_name=Names(kk=lt.name_kk, ru=lt.name_ru, en=lt.name_en) if lt else None,
            authority=(
                Authority(
                    code=lt.authority_code,
                    kk=lt.authority_kk,
                    ru=lt.authority_ru,
                    en=lt.authority_en,
                )
                if lt
                else None
            ),
            holder=lic.holder,
            holder_kind=lic.holder_kind,
            holder_name=lic.holder_name,
            status=status,
            status_reason=lic.status_reason,
            status_changed_at=lic.status_changed_at,
            in_force=status == "active",
            issued_at=lic.issued_at,
            valid_from=lic.valid_from,
            valid_until=lic.valid_until,
        )


class LicenseOut(PublicLicenseOut):
    applicant_iin: str
    application_id: str
    document: str | None = Field(
        description="the license as a JWS signed by svc-licensing (x5c chain to the national CA); "
        "null until the national CA has certified the signing key"
    )
    history: list[StepOut]

    @classmethod
    def full(cls, lic: License, lt: LicenseType | None, today: date) -> LicenseOut:
        base = PublicLicenseOut.of(lic, lt, today)
        return cls(
            **base.model_dump(),
            applicant_iin=lic.applicant_iin,
            application_id=lic.application_id,
            document=lic.document,
            history=[StepOut.of(s) for s in lic.history],
        )


class VerifyIn(BaseModel):
    document: str = Field(min_length=1, max_length=50_000, description="the license JWS")


class VerifyOut(BaseModel):
    valid: bool = Field(description="authentic and in force")
    authentic: bool = Field(description="signed by svc-licensing, unaltered, in the register")
    reason: str | None
    signed_at: datetime | None = None
    signer: str | None = None
    license: PublicLicenseOut | None = None
