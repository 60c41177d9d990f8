"""What every part of the registry domain shares: who acts, the register's clock and shares."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from meshkit.errors import PermissionDenied, RuleViolation

#: civil and business dates (birth, registration month of a BIN) are Kazakhstan's calendar days
KZ_TZ = ZoneInfo("Asia/Almaty")


def kz_today(now: datetime) -> date:
    return now.astimezone(KZ_TZ).date()


@dataclass(frozen=True)
class Actor:
    """Who asks: an agency (by code) or a citizen (by IIN), as the gateway asserted."""

    client: str
    user: str | None = None

    @property
    def is_citizen(self) -> bool:
        return self.client == "citizen"

    @property
    def scope(self) -> str:
        """Namespace of this caller's idempotency keys."""
        return f"citizen:{self.user}" if self.is_citizen else f"agency:{self.client}"

    def require_agency(self, what: str) -> None:
        if self.is_citizen:
            raise PermissionDenied(f"only an agency may {what}")

    def require_citizen_is(self, allowed: Iterable[str | None], what: str) -> None:
        """A citizen may only act on their own data; agencies pass (the gateway ACL rules them)."""
        if self.is_citizen and (self.user is None or self.user not in set(allowed)):
            raise PermissionDenied(f"a citizen may only {what}")


def sum_shares(shares: Iterable[Fraction]) -> Fraction:
    return sum(shares, Fraction(0))


def require_whole(shares: Iterable[Fraction], what: str, field: str) -> None:
    """Exact fractions: the shares of one thing add up to exactly 1, never 0.999…"""
    total = sum_shares(shares)
    if total != 1:
        raise RuleViolation(
            f"the shares of the {what} add up to {total}, not 1",
            errors={field: f"shares add up to {total}, must add up to exactly 1"},
        )


def act_number(prefix: str, year: int, seq: int) -> str:
    """Civil-status act numbers: ``B-2026-0000042`` (births), ``D-…`` (deaths)."""
    return f"{prefix}-{year}-{seq:07d}"
