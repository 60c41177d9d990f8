"""Time as the payments service sees it: UTC instants, business days in Kazakhstan (UTC+5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone


@dataclass(frozen=True)
class Clock:
    utc_offset_hours: int = 5

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.business_date(self.now())

    def business_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """[start, end) of a business day, in UTC."""
        start = datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)
        return start, start + timedelta(days=1)

    @property
    def name(self) -> str:
        return f"UTC{self.utc_offset_hours:+d}"
