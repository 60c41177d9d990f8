"""svc-licensing contracts: license events."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from meshkit.events import EventData, event_type


@event_type(
    "kz.egov.licensing.application.submitted.v1", description="a license application was filed"
)
class ApplicationSubmitted(EventData):
    application_id: str
    license_type: str
    applicant: str = Field(description="the future holder: BIN of the entity or IIN")
    due_at: datetime
    applicant_iin: str | None = Field(default=None, description="the person who applied")


@event_type("kz.egov.licensing.application.decided.v1", description="approved or rejected")
class ApplicationDecided(EventData):
    application_id: str
    license_type: str
    applicant: str
    approved: bool
    reason: str | None = None
    license_number: str | None = None
    applicant_iin: str | None = None
    decided_by: str | None = Field(default=None, description="officer, or licensing:automatic")
    decided_at: datetime | None = None
    within_sla: bool | None = Field(default=None, description="decided by the due time")


@event_type("kz.egov.licensing.application.overdue.v1", description="an SLA (term) violation")
class ApplicationOverdue(EventData):
    application_id: str
    license_type: str
    applicant: str
    due_at: datetime
    applicant_iin: str | None = None
    status: str | None = Field(default=None, description="where the application is stuck")


@event_type("kz.egov.licensing.license.issued.v1", description="a license was issued")
class LicenseIssued(EventData):
    number: str
    license_type: str
    holder: str
    application_id: str
    valid_until: date | None = None
    holder_name: str | None = None
    valid_from: date | None = None


@event_type("kz.egov.licensing.license.suspended.v1", description="a license was suspended")
class LicenseSuspended(EventData):
    number: str
    holder: str
    reason: str


@event_type(
    "kz.egov.licensing.license.reinstated.v1", description="a suspended license is in force again"
)
class LicenseReinstated(EventData):
    number: str
    holder: str
    reason: str


@event_type("kz.egov.licensing.license.revoked.v1", description="a license was revoked")
class LicenseRevoked(EventData):
    number: str
    holder: str
    reason: str
