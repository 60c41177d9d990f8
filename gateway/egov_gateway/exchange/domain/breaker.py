"""A circuit breaker per agency.

closed --N consecutive failures--> open --cool-down--> half-open (one probe) --success--> closed
                                                                            --failure--> open
A failure is a 5xx answer, a timeout or a connection error. While open, calls are refused at
once (503 + Retry-After) instead of piling onto an agency that is down.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

State = Literal["closed", "open", "half-open"]


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    cooldown_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    state: State = "closed"
    failures: int = 0
    opened_at: float = 0.0
    probe_in_flight: bool = field(default=False)

    def try_acquire(self) -> tuple[bool, bool]:
        """(allowed, is_probe). A probe must be reported with :meth:`record`."""
        if self.state == "closed":
            return True, False
        if self.state == "open" and self.clock() - self.opened_at >= self.cooldown_s:
            self.state = "half-open"
        if self.state == "half-open" and not self.probe_in_flight:
            self.probe_in_flight = True
            return True, True
        return False, False

    def retry_after_s(self) -> int:
        if self.state == "open":
            return max(1, math.ceil(self.cooldown_s - (self.clock() - self.opened_at)))
        return 1

    def record(self, *, success: bool, probe: bool = False) -> None:
        if probe:
            self.probe_in_flight = False
        if self.state == "closed":
            if success:
                self.failures = 0
                return
            self.failures += 1
            if self.failures >= self.failure_threshold:
                self._open()
        elif self.state == "half-open" and probe:
            if success:
                self.state, self.failures = "closed", 0
            else:
                self._open()
        # otherwise a call admitted before the breaker opened: it tells nothing new

    def _open(self) -> None:
        self.state, self.opened_at = "open", self.clock()

    def release_probe(self) -> None:
        """A probe that ended without an answer either way (cancelled) frees the slot."""
        self.probe_in_flight = False


class Breakers:
    def __init__(
        self,
        *,
        failure_threshold: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failure_threshold
        self._cooldown = cooldown_s
        self._clock = clock
        self._by_agency: dict[str, CircuitBreaker] = {}

    def for_agency(self, agency: str) -> CircuitBreaker:
        breaker = self._by_agency.get(agency)
        if breaker is None:
            breaker = CircuitBreaker(self._threshold, self._cooldown, self._clock)
            self._by_agency[agency] = breaker
        return breaker

    def states(self) -> dict[str, State]:
        return {agency: b.state for agency, b in self._by_agency.items()}
