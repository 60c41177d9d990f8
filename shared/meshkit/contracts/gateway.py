"""Gateway contracts: application and offer events of the single window."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from meshkit.events import EventData, event_type


@event_type("kz.egov.gateway.application.submitted.v1", description="a citizen applied")
class ApplicationSubmitted(EventData):
    application_id: str
    service_code: str
    applicant_iin: str
    due_at: datetime


@event_type("kz.egov.gateway.application.status_changed.v1", description="an application moved on")
class ApplicationStatusChanged(EventData):
    application_id: str
    service_code: str
    applicant_iin: str
    status: str
    reason: str | None = None


@event_type(
    "kz.egov.gateway.application.overdue.v1",
    description="an application passed its SLA term without a result (a term violation)",
)
class ApplicationOverdue(EventData):
    application_id: str
    service_code: str
    applicant_iin: str
    agency: str = Field(description="the agency responsible for the service")
    due_at: datetime
    detected_at: datetime


@event_type("kz.egov.gateway.offer.made.v1", description="the state offered a service proactively")
class OfferMade(EventData):
    offer_id: str
    service_code: str
    citizen_iin: str
    trigger_event_id: str
    expires_at: datetime


# -- the Unified Register: operator changes are audited as events ----------------------------
@event_type(
    "kz.egov.gateway.member.changed.v1",
    description="an operator added, updated, suspended or re-activated a member of the exchange",
)
class MemberChanged(EventData):
    member: str = Field(description="the member's subsystem code, e.g. registry")
    member_class: str
    member_code: str = Field(description="the member's BIN")
    change: Literal["added", "updated", "suspended", "activated"]
    status: Literal["active", "suspended"]
    changed_fields: list[str] = Field(default_factory=list)
    reason: str | None = None


@event_type(
    "kz.egov.gateway.grant.changed.v1",
    description="an operator granted or revoked an agency's right to call an operation",
)
class GrantChanged(EventData):
    client: str = Field(description="the calling agency (subsystem code)")
    operation_id: str = Field(description="e.g. 'identity:GET /persons/{iin}'")
    change: Literal["granted", "revoked"]


@event_type(
    "kz.egov.gateway.public_service.changed.v1",
    description="a public service of the Unified Register was added, changed or withdrawn",
)
class PublicServiceChanged(EventData):
    service_code: str
    agency: str
    kind: Literal["simple", "composite"]
    change: Literal["added", "updated"]
    status: Literal["active", "withdrawn"]
