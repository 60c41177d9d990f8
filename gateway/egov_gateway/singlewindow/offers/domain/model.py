"""An offer of a service the state makes by itself (pure domain)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from meshkit.errors import Conflict

OfferStatus = Literal["offered", "accepted", "declined", "expired", "withdrawn"]
OPEN: OfferStatus = "offered"


class OfferExpired(Conflict):
    """The offer's term is over: it can no longer be accepted (→ 409 ``offer-expired``)."""

    title = "The offer has expired"

    def __init__(self, offer_id: str, expires_at: datetime) -> None:
        super().__init__(
            f"offer {offer_id} expired at {expires_at.isoformat()}; apply for the service "
            "in the catalogue instead",
            code="offer-expired",
        )


class OfferClosed(Conflict):
    title = "The offer is no longer open"

    def __init__(self, offer_id: str, status: str) -> None:
        super().__init__(f"offer {offer_id} is already {status}", code="offer-closed")


@dataclass
class Offer:
    id: str
    citizen_iin: str
    service_code: str
    rule_code: str
    trigger_event_id: str
    trigger_event_type: str
    payload: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    title: dict[str, str] = field(default_factory=dict)
    citizen_supplies: list[str] = field(default_factory=list)
    exclusive: bool = False
    status: OfferStatus = OPEN
    decided_at: datetime | None = None
    application_id: str | None = None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def _check_open(self, now: datetime) -> None:
        if self.status == "expired" or (self.status == OPEN and self.is_expired(now)):
            raise OfferExpired(self.id, self.expires_at)
        if self.status != OPEN:
            raise OfferClosed(self.id, self.status)

    def accept(self, now: datetime) -> None:
        self._check_open(now)
        self.status, self.decided_at = "accepted", now

    def decline(self, now: datetime) -> None:
        self._check_open(now)
        self.status, self.decided_at = "declined", now

    def expire_if_due(self, now: datetime) -> bool:
        if self.status == OPEN and self.is_expired(now):
            self.status, self.decided_at = "expired", self.expires_at
            return True
        return False

    def withdraw(self, now: datetime) -> bool:
        """An alternative offer of the same event was accepted."""
        if self.status == OPEN:
            self.status, self.decided_at = "withdrawn", now
            return True
        return False

    def reopen(self) -> None:
        """Acceptance failed before the application was created (e.g. bad citizen input)."""
        self.status, self.decided_at = OPEN, None

    def merged_payload(self, supplied: dict[str, Any]) -> dict[str, Any]:
        """The state's data wins over the citizen's (once-only): the citizen adds, never edits."""
        return {**supplied, **self.payload}
