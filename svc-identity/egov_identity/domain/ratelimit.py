"""Per-key token buckets (keys: IINs), with time passed in so tests need no sleeps.

Kept in memory per instance: with N replicas a caller gets at most N times the rate (the
gateway's per-source limits come first). The number of keys is bounded: the least
recently used bucket is forgotten first, so a flood of made-up IINs cannot grow memory.
"""

from __future__ import annotations

import math
from collections import OrderedDict

_EPSILON = 1e-6


class KeyedTokenBucket:
    """``rate_per_minute`` tokens a minute, at most ``burst`` saved up, per key.
    A rate or burst of 0 disables the limit."""

    def __init__(self, rate_per_minute: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate_per_s = rate_per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate_per_s > 0 and self.burst > 0

    def take(self, key: str, now: float) -> int:
        """Take one token for ``key`` at time ``now`` (seconds). 0 when admitted, else the
        whole seconds to wait (≥ 1) before a token is there; a refusal takes nothing."""
        if not self.enabled:
            return 0
        saved = self._buckets.pop(key, None)
        if saved is None:
            tokens = float(self.burst)
        else:
            left, at = saved
            tokens = min(float(self.burst), left + max(0.0, now - at) * self.rate_per_s)
        wait = 0
        if tokens >= 1.0 - _EPSILON:  # float refill must not fall short of a whole token
            tokens = max(0.0, tokens - 1.0)
        else:
            wait = max(1, math.ceil((1.0 - tokens) / self.rate_per_s - _EPSILON))
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
