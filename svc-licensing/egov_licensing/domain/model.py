"""License types, license applications and licenses — the licensing domain (no HTTP, no SQL)."""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from meshkit.errors import Conflict, RuleViolation

ApplicantKind = Literal["legal_entity", "individual"]
CheckOutcome = Literal["passed", "failed", "officer"]


# -- license types --------------------------------------------------------------------------
@dataclass(frozen=True)
class Requirement:
    """One condition of a license type. ``automatic`` ones are checked against state
    databases; the others are judged by an officer from the submitted details."""

    code: str
    text_kk: str
    text_ru: str
    text_en: str
    automatic: bool = False


@dataclass(frozen=True)
class QualificationRules:
    """What can be checked without a human, from the state databases."""

    applicant_kinds: frozenset[ApplicantKind] = frozenset({"legal_entity"})
    legal_forms: frozenset[str] | None = None  # LLP, JSC, SOLE_PROPRIETOR
    activity_codes: tuple[str, ...] = ()  # OKED prefixes, one of which the entity must carry
    min_age: int = 18
    detail_fields: tuple[str, ...] = ()  # ``details`` keys the application must fill in


@dataclass(frozen=True)
class LicenseType:
    code: str
    name_kk: str
    name_ru: str
    name_en: str
    authority_code: str
    authority_kk: str
    authority_ru: str
    authority_en: str
    state_duty_tiyn: int
    kbk: str
    sla_working_days: int
    validity_months: int | None  # None: unlimited (the rule in Kazakhstan for most licenses)
    requirements: tuple[Requirement, ...]
    rules: QualificationRules
    legal_basis: str = ""
    active: bool = True

    @property
    def needs_officer(self) -> bool:
        return any(not r.automatic for r in self.requirements)

    def valid_until(self, valid_from: date) -> date | None:
        if self.validity_months is None:
            return None
        return add_months(valid_from, self.validity_months)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _cal.monthrange(year, month)[1]))


# -- qualification ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ApplicantFacts:
    """What the state databases say about an applicant (gathered through the gateway)."""

    applicant_iin: str
    applicant_bin: str | None
    person_found: bool
    person_alive: bool = True
    person_birth_date: date | None = None
    person_name: str | None = None
    entity_found: bool = True
    entity_status: str | None = None
    entity_director_iin: str | None = None
    entity_legal_form: str | None = None
    entity_activity_codes: tuple[str, ...] = ()
    entity_name: str | None = None
    holds_license_number: str | None = None  # an active license of the same type

    @property
    def kind(self) -> ApplicantKind:
        return "legal_entity" if self.applicant_bin else "individual"


@dataclass(frozen=True)
class CheckResult:
    code: str
    outcome: CheckOutcome
    detail: str
    source: str  # registry | identity | licensing | officer


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def qualify(
    license_type: LicenseType, facts: ApplicantFacts, details: dict[str, Any], today: date
) -> list[CheckResult]:
    """Check every rule that can be checked automatically; list the rest for an officer."""
    r = license_type.rules
    out: list[CheckResult] = []

    def add(code: str, ok: bool, good: str, bad: str, source: str) -> None:
        out.append(CheckResult(code, "passed" if ok else "failed", good if ok else bad, source))

    add(
        "applicant_kind",
        facts.kind in r.applicant_kinds,
        f"a {facts.kind.replace('_', ' ')} may hold this license",
        f"this license is issued only to: {', '.join(sorted(k.replace('_', ' ') for k in r.applicant_kinds))}",
        "licensing",
    )
    if not facts.person_found:
        add(
            "person",
            False,
            "",
            f"IIN {facts.applicant_iin} is not in the register of individuals",
            "identity",
        )
    else:
        add(
            "person_alive",
            facts.person_alive,
            "the applicant is on the register of individuals",
            f"IIN {facts.applicant_iin} belongs to a deceased person",
            "identity",
        )
        if facts.person_birth_date is not None:
            age = age_on(facts.person_birth_date, today)
            add(
                "applicant_age",
                age >= r.min_age,
                f"the applicant is {age}, at least {r.min_age}",
                f"the applicant must be at least {r.min_age} years old (is {age})",
                "identity",
            )
    if facts.applicant_bin:
        if not facts.entity_found:
            add(
                "legal_entity",
                False,
                "",
                f"BIN {facts.applicant_bin} is not in the register of legal entities",
                "registry",
            )
        else:
            add(
                "legal_entity_active",
                facts.entity_status == "active",
                "the legal entity is active",
                f"the legal entity {facts.applicant_bin} is {facts.entity_status}, not active",
                "registry",
            )
            add(
                "applicant_is_director",
                facts.entity_director_iin == facts.applicant_iin,
                "the applicant is the director of the legal entity",
                f"IIN {facts.applicant_iin} is not the director of {facts.applicant_bin}",
                "registry",
            )
            if r.legal_forms is not None:
                add(
                    "legal_form",
                    facts.entity_legal_form in r.legal_forms,
                    f"legal form {facts.entity_legal_form} is allowed",
                    f"legal form {facts.entity_legal_form} may not hold this license "
                    f"(allowed: {', '.join(sorted(r.legal_forms))})",
                    "registry",
                )
            if r.activity_codes and facts.entity_activity_codes:
                ok = any(
                    c.startswith(p) for c in facts.entity_activity_codes for p in r.activity_codes
                )
                add(
                    "activity_code",
                    ok,
                    "the entity's registered activities cover this license",
                    "none of the entity's registered activity codes (OKED) "
                    f"{', '.join(facts.entity_activity_codes)} is one of "
                    f"{', '.join(r.activity_codes)}",
                    "registry",
                )
    missing = [f for f in r.detail_fields if not str(details.get(f) or "").strip()]
    add(
        "details",
        not missing,
        "the application details are complete",
        f"the application lacks: {', '.join(missing)}",
        "licensing",
    )
    add(
        "no_duplicate",
        facts.holds_license_number is None,
        "the applicant holds no active license of this type",
        f"the applicant already holds license {facts.holds_license_number} of this type",
        "licensing",
    )
    for req in license_type.requirements:
        if not req.automatic:
            out.append(CheckResult(req.code, "officer", req.text_en, "officer"))
    return out


# -- applications ----------------------------------------------------------------------------
class ApplicationStatus(StrEnum):
    AWAITING_INVOICE = "awaiting_invoice"  # payments could not be reached yet; retried
    AWAITING_PAYMENT = "awaiting_payment"
    UNDER_REVIEW = "under_review"  # paid; an officer decides
    APPROVED = "approved"
    REJECTED = "rejected"


OPEN_STATUSES = frozenset(
    {
        ApplicationStatus.AWAITING_INVOICE,
        ApplicationStatus.AWAITING_PAYMENT,
        ApplicationStatus.UNDER_REVIEW,
    }
)


@dataclass
class Step:
    """One entry of an application's timeline: what happened, when, who did it, why."""

    step: str
    at: datetime
    actor: str
    reason: str | None = None


@dataclass
class Application:
    id: str
    license_type: str
    applicant_iin: str
    applicant_bin: str | None
    holder_name: str | None
    details: dict[str, Any]
    status: ApplicationStatus
    submitted_at: datetime
    submitted_by: str
    due_at: datetime
    sla_working_days: int
    amount_tiyn: int
    needs_officer: bool
    checks: list[CheckResult] = field(default_factory=list)
    invoice_id: str | None = None
    paid_at: datetime | None = None
    decided_at: datetime | None = None
    approved: bool | None = None
    decision_reason: str | None = None
    decided_by: str | None = None
    overdue_at: datetime | None = None
    license_number: str | None = None
    idempotency_key: str | None = None
    #: the process the application was filed in (a single-window application's id when filed
    #: as one of its steps, else its own id): every event of the application carries it, also
    #: those written later on a payment or an officer's decision (DESIGN §5)
    correlation_id: str | None = None
    steps: list[Step] = field(default_factory=list)
    new_steps: list[Step] = field(default_factory=list, repr=False)

    @property
    def holder(self) -> str:
        """Who the license is for: the legal entity, or the individual."""
        return self.applicant_bin or self.applicant_iin

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def process(self) -> str:
        """The correlation id of the application's events."""
        return self.correlation_id or self.id

    def _log(self, step: str, at: datetime, actor: str, reason: str | None = None) -> None:
        s = Step(step, at, actor, reason)
        self.steps.append(s)
        self.new_steps.append(s)

    @classmethod
    def file(
        cls,
        *,
        id: str,
        license_type: LicenseType,
        applicant_iin: str,
        applicant_bin: str | None,
        holder_name: str | None,
        details: dict[str, Any],
        at: datetime,
        actor: str,
        due_at: datetime,
        checks: list[CheckResult],
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
    ) -> Application:
        app = cls(
            id=id,
            license_type=license_type.code,
            applicant_iin=applicant_iin,
            applicant_bin=applicant_bin,
            holder_name=holder_name,
            details=details,
            status=ApplicationStatus.AWAITING_INVOICE,
            submitted_at=at,
            submitted_by=actor,
            due_at=due_at,
            sla_working_days=license_type.sla_working_days,
            amount_tiyn=license_type.state_duty_tiyn,
            needs_officer=any(c.outcome == "officer" for c in checks),
            checks=list(checks),
            idempotency_key=idempotency_key,
            correlation_id=correlation_id or id,
        )
        app._log("submitted", at, actor, f"application for {license_type.name_en}")
        for c in checks:
            if c.outcome != "officer":
                app._log(f"check:{c.code}", at, c.source, f"{c.outcome}: {c.detail}")
        failed = [c for c in checks if c.outcome == "failed"]
        if failed:
            app.reject("; ".join(c.detail for c in failed), actor="licensing:automatic", at=at)
        return app

    def invoice_issued(self, invoice_id: str, at: datetime) -> bool:
        if self.invoice_id == invoice_id or not self.is_open:
            return False
        self.invoice_id = invoice_id
        if self.status == ApplicationStatus.AWAITING_INVOICE:
            self.status = ApplicationStatus.AWAITING_PAYMENT
        self._log(
            "invoice_issued",
            at,
            "payments",
            f"state duty invoice {invoice_id}: {self.amount_tiyn} tiyn",
        )
        return True

    def invoice_failed(self, reason: str, at: datetime) -> None:
        self._log("invoice_delayed", at, "payments", f"will retry: {reason}")

    def mark_paid(self, invoice_id: str, amount_tiyn: int, at: datetime) -> bool:
        """Record the payment once. A later (duplicate) notice changes nothing."""
        if self.paid_at is not None:
            return False
        if amount_tiyn < self.amount_tiyn:
            self._log(
                "payment_short",
                at,
                "payments",
                f"paid {amount_tiyn} of {self.amount_tiyn} tiyn; still waiting",
            )
            return False
        self.paid_at = at
        self.invoice_id = self.invoice_id or invoice_id
        self._log("paid", at, "payments", f"invoice {invoice_id} paid: {amount_tiyn} tiyn")
        if self.is_open:
            self.status = ApplicationStatus.UNDER_REVIEW
            if self.needs_officer:
                self._log("awaiting_officer", at, "licensing", "requirements need an officer")
        else:
            self._log(
                "payment_after_decision",
                at,
                "licensing",
                f"the application was already {self.status}; the payment is to be refunded",
            )
        return True

    def ensure_approvable(self) -> None:
        if not self.is_open:
            raise Conflict(f"application {self.id} is already {self.status}")
        if self.status != ApplicationStatus.UNDER_REVIEW:
            raise Conflict(
                f"application {self.id} cannot be approved before the state duty is paid"
            )

    def approve(self, *, actor: str, reason: str, at: datetime, license_number: str) -> None:
        self.ensure_approvable()
        if not reason.strip():
            raise RuleViolation("an approval needs a reason", errors={"reason": "required"})
        self.status = ApplicationStatus.APPROVED
        self.approved = True
        self.decided_at, self.decided_by, self.decision_reason = at, actor, reason
        self.license_number = license_number
        self._log("approved", at, actor, reason)
        self._log("license_issued", at, "licensing", f"license {license_number}")

    def reject(self, reason: str, *, actor: str, at: datetime) -> None:
        if not self.is_open:
            raise Conflict(f"application {self.id} is already {self.status}")
        if not reason.strip():
            raise RuleViolation("a rejection needs a reason", errors={"reason": "required"})
        self.status = ApplicationStatus.REJECTED
        self.approved = False
        self.decided_at, self.decided_by, self.decision_reason = at, actor, reason
        self._log("rejected", at, actor, reason)

    def mark_overdue(self, now: datetime) -> bool:
        """An SLA violation: past its due time with no decision. Recorded once."""
        if self.overdue_at is not None or not self.is_open or now <= self.due_at:
            return False
        self.overdue_at = now
        self._log(
            "sla_violated",
            now,
            "licensing:sla",
            f"no decision by {self.due_at.isoformat()} ({self.sla_working_days} working days)",
        )
        return True

    @property
    def decided_in_time(self) -> bool | None:
        if self.decided_at is None:
            return None
        return self.decided_at <= self.due_at


# -- licenses -----------------------------------------------------------------------------------
class LicenseStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


@dataclass
class License:
    number: str
    license_type: str
    holder: str
    holder_kind: ApplicantKind
    holder_name: str | None
    applicant_iin: str
    application_id: str
    issued_at: datetime
    valid_from: date
    valid_until: date | None
    status: LicenseStatus = LicenseStatus.ACTIVE
    status_reason: str | None = None
    status_changed_at: datetime | None = None
    document: str | None = None
    history: list[Step] = field(default_factory=list)
    new_history: list[Step] = field(default_factory=list, repr=False)

    def _log(self, step: str, at: datetime, actor: str, reason: str | None) -> None:
        s = Step(step, at, actor, reason)
        self.history.append(s)
        self.new_history.append(s)

    @classmethod
    def issue(
        cls,
        *,
        number: str,
        license_type: LicenseType,
        application: Application,
        at: datetime,
        today: date,
        actor: str,
    ) -> License:
        lic = cls(
            number=number,
            license_type=license_type.code,
            holder=application.holder,
            holder_kind="legal_entity" if application.applicant_bin else "individual",
            holder_name=application.holder_name,
            applicant_iin=application.applicant_iin,
            application_id=application.id,
            issued_at=at,
            valid_from=today,
            valid_until=license_type.valid_until(today),
        )
        lic._log("issued", at, actor, f"on application {application.id}")
        return lic

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and today > self.valid_until

    def effective_status(self, today: date) -> str:
        if self.status == LicenseStatus.ACTIVE and self.expired(today):
            return "expired"
        return self.status.value

    def suspend(self, reason: str, *, actor: str, at: datetime) -> None:
        if self.status != LicenseStatus.ACTIVE:
            raise Conflict(
                f"license {self.number} is {self.status}; only an active one is suspended"
            )
        self._change(LicenseStatus.SUSPENDED, "suspended", reason, actor, at)

    def reinstate(self, reason: str, *, actor: str, at: datetime) -> None:
        if self.status != LicenseStatus.SUSPENDED:
            raise Conflict(f"license {self.number} is {self.status}, not suspended")
        self._change(LicenseStatus.ACTIVE, "reinstated", reason, actor, at)

    def revoke(self, reason: str, *, actor: str, at: datetime) -> None:
        if self.status == LicenseStatus.REVOKED:
            raise Conflict(f"license {self.number} is already revoked")
        self._change(LicenseStatus.REVOKED, "revoked", reason, actor, at)

    def _change(
        self, status: LicenseStatus, step: str, reason: str, actor: str, at: datetime
    ) -> None:
        if not reason.strip():
            raise RuleViolation("a reason is required", errors={"reason": "required"})
        self.status, self.status_reason, self.status_changed_at = status, reason, at
        self._log(step, at, actor, reason)


def license_number(issued_on: date, sequence: int) -> str:
    """``KZ26LIC00000042``: country, year of issue, register, sequence within the year."""
    return f"KZ{issued_on.year % 100:02d}LIC{sequence:08d}"
