"""Time as a dependency, so expiry and lockout rules are testable without waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedOffsetClock(Clock):
    """Real time shifted by an offset tests can advance (``clock.advance(seconds=301)``)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)
