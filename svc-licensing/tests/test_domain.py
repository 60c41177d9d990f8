"""Domain rules without HTTP or SQL: qualification, application and license life cycles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from egov_licensing.domain.catalogue import CATALOGUE
from egov_licensing.domain.model import (
    ApplicantFacts,
    Application,
    ApplicationStatus,
    License,
    add_months,
    license_number,
    qualify,
)
from meshkit.errors import Conflict, RuleViolation

TYPES = {t.code: t for t in CATALOGUE}
NOW = datetime(2026, 3, 20, 5, 0, tzinfo=UTC)
DIRECTOR, BIN = "900115300122", "150340001236"


def facts(**kw: object) -> ApplicantFacts:
    base: dict[str, object] = dict(
        applicant_iin=DIRECTOR,
        applicant_bin=BIN,
        person_found=True,
        person_alive=True,
        person_birth_date=date(1990, 1, 15),
        entity_status="active",
        entity_director_iin=DIRECTOR,
        entity_legal_form="LLP",
        entity_activity_codes=("47730",),
    )
    base.update(kw)
    return ApplicantFacts(**base)  # type: ignore[arg-type]


PHARMACY_DETAILS = {"premises_address": "Алматы", "pharmacist_iin": DIRECTOR}


def outcomes(
    code: str, f: ApplicantFacts, details: dict[str, object] | None = None
) -> dict[str, str]:
    checks = qualify(
        TYPES[code], f, details if details is not None else PHARMACY_DETAILS, NOW.date()
    )
    return {c.code: c.outcome for c in checks}


def test_catalogue_is_sound() -> None:
    assert len(CATALOGUE) >= 10 and len(TYPES) == len(CATALOGUE)
    for t in CATALOGUE:
        assert t.state_duty_tiyn > 0 and t.sla_working_days >= 1 and len(t.kbk) == 6
        assert t.name_kk and t.name_ru and t.name_en and t.authority_kk
    assert not TYPES["TOUR_OPERATOR"].needs_officer and TYPES["PHARMACY"].needs_officer


def test_a_good_pharmacy_passes_and_waits_for_an_officer() -> None:
    out = outcomes("PHARMACY", facts())
    assert "failed" not in out.values()
    assert out["premises"] == "officer" and out["pharmacist"] == "officer"


@pytest.mark.parametrize(
    ("kw", "failed"),
    [
        ({"entity_status": "liquidated"}, "legal_entity_active"),
        ({"entity_director_iin": "850101400123"}, "applicant_is_director"),
        ({"entity_found": False}, "legal_entity"),
        ({"person_alive": False}, "person_alive"),
        ({"person_found": False}, "person"),
        ({"entity_activity_codes": ("62010",)}, "activity_code"),
        ({"holds_license_number": "KZ26LIC00000001"}, "no_duplicate"),
    ],
)
def test_automatic_refusals(kw: dict[str, object], failed: str) -> None:
    assert outcomes("PHARMACY", facts(**kw))[failed] == "failed"


def test_unknown_activity_codes_are_not_held_against_the_applicant() -> None:
    assert "activity_code" not in outcomes("PHARMACY", facts(entity_activity_codes=()))


def test_individual_only_and_legal_entity_only_types() -> None:
    person = facts(applicant_bin=None)
    assert outcomes("ADVOCACY", person, {"exam_certificate": "1"})["applicant_kind"] == "passed"
    assert outcomes("ADVOCACY", facts(), {"exam_certificate": "1"})["applicant_kind"] == "failed"
    assert (
        outcomes("PRIVATE_SECURITY", person, {"office_address": "x"})["applicant_kind"] == "failed"
    )
    young = facts(applicant_bin=None, person_birth_date=date(2006, 3, 21))
    assert outcomes("ADVOCACY", young, {"exam_certificate": "1"})["applicant_age"] == "failed"


def _filed(code: str = "PHARMACY", f: ApplicantFacts | None = None) -> Application:
    t = TYPES[code]
    return Application.file(
        id="a-1",
        license_type=t,
        applicant_iin=DIRECTOR,
        applicant_bin=BIN,
        holder_name="ЖШС",
        details=PHARMACY_DETAILS,
        at=NOW,
        actor=f"citizen:{DIRECTOR}",
        due_at=NOW + timedelta(days=3),
        checks=qualify(t, f or facts(), PHARMACY_DETAILS, NOW.date()),
    )


def test_application_life_cycle_and_one_decision() -> None:
    app = _filed()
    assert app.status == ApplicationStatus.AWAITING_INVOICE and app.needs_officer
    with pytest.raises(Conflict):
        app.approve(actor="officer:x", reason="fine", at=NOW, license_number="N")
    assert app.invoice_issued("INV-1", NOW) and not app.invoice_issued("INV-1", NOW)
    assert not app.mark_paid("INV-1", app.amount_tiyn - 1, NOW)  # short: still waiting
    assert app.status == ApplicationStatus.AWAITING_PAYMENT
    assert app.mark_paid("INV-1", app.amount_tiyn, NOW)
    assert not app.mark_paid("INV-1", app.amount_tiyn, NOW)
    app.approve(actor="officer:x", reason="fine", at=NOW, license_number="KZ26LIC00000001")
    with pytest.raises(Conflict):
        app.reject("no", actor="officer:y", at=NOW)
    assert [s.step for s in app.steps].count("paid") == 1
    assert app.decided_in_time is True


def test_failed_check_rejects_at_filing_with_every_reason() -> None:
    app = _filed(f=facts(entity_status="suspended", entity_director_iin="850101400123"))
    assert app.status == ApplicationStatus.REJECTED
    assert "suspended" in (app.decision_reason or "") and "not the director" in (
        app.decision_reason or ""
    )
    with pytest.raises(RuleViolation):
        _filed().reject("  ", actor="officer:x", at=NOW)


def test_overdue_is_recorded_once_and_only_when_open_and_late() -> None:
    app = _filed()
    assert not app.mark_overdue(app.due_at)  # the due instant itself is still in time
    assert app.mark_overdue(app.due_at + timedelta(seconds=1))
    assert not app.mark_overdue(app.due_at + timedelta(days=1))
    done = _filed(f=facts(entity_status="liquidated"))
    assert not done.mark_overdue(done.due_at + timedelta(days=1))


def test_license_transitions() -> None:
    app = _filed("EXPORT_IMPORT_ONEOFF")
    lic = License.issue(
        number=license_number(date(2026, 3, 20), 42),
        license_type=TYPES["EXPORT_IMPORT_ONEOFF"],
        application=app,
        at=NOW,
        today=date(2026, 3, 20),
        actor="officer:x",
    )
    assert lic.number == "KZ26LIC00000042" and lic.valid_until == date(2027, 3, 20)
    with pytest.raises(Conflict):
        lic.reinstate("why", actor="o", at=NOW)
    lic.suspend("inspection", actor="o", at=NOW)
    with pytest.raises(Conflict):
        lic.suspend("again", actor="o", at=NOW)
    lic.revoke("court", actor="o", at=NOW)
    with pytest.raises(Conflict):
        lic.revoke("again", actor="o", at=NOW)
    assert [h.step for h in lic.history] == ["issued", "suspended", "revoked"]
    assert lic.effective_status(date(2030, 1, 1)) == "revoked"


def test_add_months_keeps_the_end_of_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 20), 72) == date(2032, 3, 20)
