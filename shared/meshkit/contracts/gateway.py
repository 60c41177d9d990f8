"""Gateway contracts: application and offer events of the single window."""

from __future__ import annotations

from datetime import datetime

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


@event_type("kz.egov.gateway.offer.made.v1", description="the state offered a service proactively")
class OfferMade(EventData):
    offer_id: str
    service_code: str
    citizen_iin: str
    trigger_event_id: str
    expires_at: datetime
