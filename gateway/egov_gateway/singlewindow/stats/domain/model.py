"""The efficiency indicators (pure): computed from application records of a period.

Definitions (also in gateway/docs/offers-notifications-stats.md):
- *rendered*: applications of the period that completed; *electronic*: those that came through
  an electronic channel (portal, mobile, api, or a proactive offer accepted online) — not those
  an operator of a public service centre made for the citizen (``centre``);
- *by channel*: rendered applications per channel (``electronic`` / ``centre`` / ``other``);
- *term (SLA) violation*: an application marked overdue, completed after its due time, or
  still open past its due time;
- *time to result*: completion minus submission of completed applications; median and p90 by
  the nearest-rank method (the smallest value with at least p % of values at or below it);
- *satisfaction*: mean of the 1–5 ratings (2 decimals) and how many of each.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

# "offer"/"proactive": a proactive offer accepted online
ELECTRONIC_ORIGINS = frozenset({"portal", "mobile", "api", "offer", "proactive"})
FINISHED = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class ApplicationFact:
    service_code: str
    agency: str
    origin: str
    status: str
    submitted_at: datetime
    due_at: datetime
    completed_at: datetime | None
    overdue_at: datetime | None
    rating: int | None

    def violated_term(self, now: datetime) -> bool:
        if self.overdue_at is not None:
            return True
        if self.completed_at is not None:
            return self.completed_at > self.due_at
        return self.status not in FINISHED and now > self.due_at


@dataclass(frozen=True)
class Figures:
    applications: int
    by_status: dict[str, int]
    rendered: int
    rendered_electronic: int
    share_electronic: float | None
    term_violations: int
    term_violation_share: float | None
    ratings_count: int
    satisfaction_avg: float | None
    ratings: dict[str, int]
    time_to_result_median_s: float | None
    time_to_result_p90_s: float | None
    rendered_by_channel: dict[str, int] | None = None


def nearest_rank(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(facts: Iterable[ApplicationFact], now: datetime) -> Figures:
    items = list(facts)
    by_status = Counter(f.status for f in items)
    done = [f for f in items if f.status == "completed"]
    electronic = sum(1 for f in done if f.origin in ELECTRONIC_ORIGINS)
    violations = sum(1 for f in items if f.violated_term(now))
    ratings = [f.rating for f in items if f.rating is not None]
    durations = [
        (f.completed_at - f.submitted_at).total_seconds()
        for f in done
        if f.completed_at is not None
    ]
    return Figures(
        applications=len(items),
        by_status=dict(sorted(by_status.items())),
        rendered=len(done),
        rendered_electronic=electronic,
        share_electronic=_share(electronic, len(done)),
        term_violations=violations,
        term_violation_share=_share(violations, len(items)),
        ratings_count=len(ratings),
        satisfaction_avg=round(sum(ratings) / len(ratings), 2) if ratings else None,
        ratings={str(k): sum(1 for r in ratings if r == k) for k in range(1, 6)},
        time_to_result_median_s=nearest_rank(durations, 50),
        time_to_result_p90_s=nearest_rank(durations, 90),
        rendered_by_channel=dict(sorted(Counter(channel_of(f.origin) for f in done).items())),
    )


CENTRE_ORIGINS = frozenset({"centre", "public_service_center"})


def channel_of(origin: str) -> str:
    """``electronic`` (online), ``centre`` (an operator at a public service centre), ``other``."""
    if origin in ELECTRONIC_ORIGINS:
        return "electronic"
    return "centre" if origin in CENTRE_ORIGINS else "other"
