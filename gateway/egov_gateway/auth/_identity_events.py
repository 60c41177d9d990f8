"""Stand-ins for svc-identity's revocation events until meshkit.contracts.identity has them
(same type names and fields; deliberately not registered in the global event registry, so
the real contracts can be registered without a clash)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from meshkit.events import EventData


class SessionRevoked(EventData):
    event_type: ClassVar[str] = "kz.egov.identity.session.revoked.v1"
    iin: str
    session_id: str | None = None
    reason: str | None = None
    revoked_at: datetime


class SigningKeyRetired(EventData):
    event_type: ClassVar[str] = "kz.egov.identity.signing_key.retired.v1"
    kid: str
    retired_at: datetime
