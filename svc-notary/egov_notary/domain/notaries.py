"""The registry of licensed notaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from meshkit.errors import RuleViolation

NotaryStatus = Literal["active", "suspended", "terminated"]
NOTARY_STATUSES: tuple[NotaryStatus, ...] = ("active", "suspended", "terminated")


@dataclass
class Notary:
    iin: str
    full_name: str
    license_number: str
    region: str
    status: NotaryStatus
    registered_at: datetime
    updated_at: datetime
    status_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def ensure_may_notarize(self) -> None:
        """Only an active notary drafts, signs or registers acts."""
        if not self.active:
            raise RuleViolation(
                f"notary {self.full_name} (license {self.license_number}) is {self.status}"
                + (f": {self.status_reason}" if self.status_reason else "")
                + "; only an active notary may perform notarial acts",
                code="notary_not_active",
            )

    def change_status(self, status: NotaryStatus, reason: str | None, now: datetime) -> bool:
        if status == self.status:
            return False
        if self.status == "terminated":
            raise RuleViolation(
                "a terminated license cannot be reinstated; register a new license",
                code="notary_terminated",
            )
        self.status = status
        self.status_reason = reason
        self.updated_at = now
        return True
