"""svc-licensing contracts: license events."""

from __future__ import annotations

from datetime import date, datetime

from meshkit.events import EventData, event_type


@event_type(
    "kz.egov.licensing.application.submitted.v1", description="a license application was filed"
)
class ApplicationSubmitted(EventData):
    application_id: str
    license_type: str
    applicant: str
    due_at: datetime


@event_type("kz.egov.licensing.application.decided.v1", description="approved or rejected")
class ApplicationDecided(EventData):
    application_id: str
    license_type: str
    applicant: str
    approved: bool
    reason: str | None = None
    license_number: str | None = None


@event_type("kz.egov.licensing.application.overdue.v1", description="an SLA (term) violation")
class ApplicationOverdue(EventData):
    application_id: str
    license_type: str
    applicant: str
    due_at: datetime


@event_type("kz.egov.licensing.license.issued.v1", description="a license was issued")
class LicenseIssued(EventData):
    number: str
    license_type: str
    holder: str
    application_id: str
    valid_until: date | None = None


@event_type("kz.egov.licensing.license.suspended.v1", description="a license was suspended")
class LicenseSuspended(EventData):
    number: str
    holder: str
    reason: str


@event_type("kz.egov.licensing.license.revoked.v1", description="a license was revoked")
class LicenseRevoked(EventData):
    number: str
    holder: str
    reason: str
