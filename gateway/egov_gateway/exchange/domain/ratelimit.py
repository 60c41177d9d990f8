"""Per-client rate limits: a token bucket per client (agency code, citizen IIN or anonymous
address), with rate and burst per client class. In memory: each gateway replica limits its
own share (document: divide the limits by the replica count when scaling out)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    rate_per_s: float
    burst: int


class TokenBuckets:
    """Buckets keyed by client; least recently used ones are forgotten beyond ``max_clients``
    (a forgotten bucket comes back full, which only ever errs on the generous side)."""

    def __init__(
        self,
        limits: dict[str, Limit],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._max = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def available(self, client_class: str, client: str) -> tuple[bool, int]:
        """Whether ``client`` has a token left, without taking it: (allowed, retry_after_s)."""
        limit = self._limits.get(client_class)
        if limit is None or limit.rate_per_s <= 0:
            return True, 0
        held = self._buckets.get(f"{client_class}:{client}")
        if held is None:
            return True, 0
        tokens = min(float(limit.burst), held[0] + (self._clock() - held[1]) * limit.rate_per_s)
        if tokens >= 1.0:
            return True, 0
        return False, max(1, math.ceil((1.0 - tokens) / limit.rate_per_s))

    def take(self, client_class: str, client: str) -> tuple[bool, int]:
        """(allowed, retry_after_s) for one call of ``client``."""
        limit = self._limits.get(client_class)
        if limit is None or limit.rate_per_s <= 0:
            return True, 0
        key = f"{client_class}:{client}"
        now = self._clock()
        tokens, last = self._buckets.pop(key, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - last) * limit.rate_per_s)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        if allowed:
            return True, 0
        return False, max(1, math.ceil((1.0 - tokens) / limit.rate_per_s))
