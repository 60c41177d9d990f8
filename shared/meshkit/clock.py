"""Time as a dependency: services read "now" from a clock tests can move.

One protocol for every service; the implementations cover what the services and their tests
need: the system clock, a clock that stands still until moved, real time shifted by an
offset, and business days in a fixed UTC offset (Kazakhstan, UTC+5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


@dataclass(frozen=True)
class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until told to move (tests, demos of the SLA watcher)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **parts: float) -> None:
        self._now += (delta or timedelta(0)) + timedelta(**parts)


class ShiftedClock:
    """Real time shifted by an offset tests can advance (``clock.advance(seconds=301)``):
    time keeps flowing, so code that waits on real deadlines still works."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self._frozen_at: datetime | None = None

    def now(self) -> datetime:
        return (self._frozen_at or datetime.now(UTC)) + self.offset

    def freeze(self) -> None:
        """Stop time where it is (``advance`` still moves it): rules counted in seconds, such
        as a Retry-After, then do not depend on how fast the machine runs the test."""
        self._frozen_at = datetime.now(UTC)

    def advance(self, delta: timedelta | None = None, **parts: float) -> None:
        self.offset += (delta or timedelta(0)) + timedelta(**parts)


@dataclass(frozen=True)
class BusinessClock:
    """UTC instants and the business day they fall on in a fixed UTC offset."""

    utc_offset_hours: int = 5
    source: Clock = field(default_factory=SystemClock)

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))

    def now(self) -> datetime:
        return self.source.now()

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
