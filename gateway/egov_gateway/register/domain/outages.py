"""Technical failures: when a member stops answering its readiness probe, and for how long.

An outage opens after ``threshold`` consecutive failed probes, dated from the first of them,
and closes at the first successful probe. Totals for a period clip every interval to it;
a service's total is the union of the outages of every member it depends on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class OutageInterval:
    started_at: datetime
    ended_at: datetime | None  # None while it lasts
    reason: str | None = None


@dataclass
class ProbeState:
    """The probe history of one member, kept in memory between probes."""

    agency: str
    failures: int = 0
    first_failure_at: datetime | None = None
    down: bool = False

    def observe(
        self, ok: bool, at: datetime, threshold: int
    ) -> tuple[Literal["opened", "closed"], datetime] | None:
        """Record one probe; the transition it causes (and its time), if any."""
        if ok:
            self.failures, self.first_failure_at = 0, None
            if self.down:
                self.down = False
                return ("closed", at)
            return None
        if self.failures == 0:
            self.first_failure_at = at
        self.failures += 1
        if not self.down and self.failures >= max(1, threshold):
            self.down = True
            assert self.first_failure_at is not None
            return ("opened", self.first_failure_at)
        return None


def clipped_seconds(
    intervals: Iterable[OutageInterval], start: datetime, end: datetime, now: datetime
) -> float:
    """Total seconds of the union of ``intervals`` within [start, end] (open ones last to now)."""
    spans: list[tuple[datetime, datetime]] = []
    for iv in intervals:
        s = max(iv.started_at, start)
        e = min(iv.ended_at or now, end)
        if e > s:
            spans.append((s, e))
    spans.sort()
    total = 0.0
    cur_s: datetime | None = None
    cur_e: datetime | None = None
    for s, e in spans:
        if cur_e is None or s > cur_e:
            if cur_s is not None and cur_e is not None:
                total += (cur_e - cur_s).total_seconds()
            cur_s, cur_e = s, e
        elif e > cur_e:
            cur_e = e
    if cur_s is not None and cur_e is not None:
        total += (cur_e - cur_s).total_seconds()
    return total
