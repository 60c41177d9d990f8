"""Consents: a citizen lets an agency read categories of their data for a purpose, until a
date. The once-only principle needs them where no law already gives the agency access."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from meshkit.contracts.identity import ConsentCategory, ConsentGranted, ConsentRevoked
from meshkit.errors import RuleViolation
from meshkit.events import EventData

MAX_CONSENT = timedelta(days=5 * 365)


@dataclass
class Consent:
    id: str
    iin: str
    agency: str
    categories: list[ConsentCategory]
    purpose: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    events: list[EventData] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def grant(
        cls,
        *,
        iin: str,
        agency: str,
        categories: list[ConsentCategory],
        purpose: str,
        expires_at: datetime,
        now: datetime,
    ) -> Consent:
        if expires_at <= now:
            raise RuleViolation(
                "a consent must expire in the future", errors={"expires_at": "in the past"}
            )
        if expires_at - now > MAX_CONSENT:
            raise RuleViolation(
                "a consent lasts at most 5 years", errors={"expires_at": "more than 5 years"}
            )
        if not categories:
            raise RuleViolation("name at least one category", errors={"categories": "empty"})
        if not purpose.strip():
            raise RuleViolation("state the purpose", errors={"purpose": "blank"})
        consent = cls(
            id=str(uuid.uuid4()),
            iin=iin,
            agency=agency,
            categories=sorted(set(categories)),
            purpose=purpose.strip(),
            granted_at=now,
            expires_at=expires_at,
        )
        consent.events.append(
            ConsentGranted(
                consent_id=consent.id,
                iin=iin,
                agency=agency,
                categories=list(consent.categories),
                purpose=consent.purpose,
                expires_at=expires_at,
            )
        )
        return consent

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def covers(self, category: str, now: datetime) -> bool:
        return self.is_active(now) and category in self.categories

    def revoke(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.events.append(ConsentRevoked(consent_id=self.id, iin=self.iin, agency=self.agency))
        return True
