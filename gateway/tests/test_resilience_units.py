"""Circuit breaker and token buckets, with a fake clock."""

from __future__ import annotations

from egov_gateway.exchange.domain.breaker import CircuitBreaker
from egov_gateway.exchange.domain.ratelimit import Limit, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_n_failures_probes_once_and_closes() -> None:
    clock = Clock()
    b = CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        assert b.try_acquire() == (True, False)
        b.record(success=False)
    b.record(success=True)  # a success resets the count
    for _ in range(3):
        b.try_acquire()
        b.record(success=False)
    assert b.state == "open" and b.try_acquire() == (False, False)
    assert b.retry_after_s() == 10
    clock.now += 10
    assert b.try_acquire() == (True, True)  # half-open: one probe …
    assert b.try_acquire() == (False, False)  # … and only one
    b.record(success=False, probe=True)
    assert b.state == "open"
    clock.now += 10
    assert b.try_acquire() == (True, True)
    b.record(success=True, probe=True)
    assert b.state == "closed" and b.try_acquire() == (True, False)


def test_breaker_probe_that_never_answers_frees_its_slot() -> None:
    clock = Clock()
    b = CircuitBreaker(failure_threshold=1, cooldown_s=1, clock=clock)
    b.record(success=False)
    clock.now += 1
    assert b.try_acquire() == (True, True)
    b.release_probe()
    assert b.try_acquire() == (True, True)


def test_token_bucket_per_client_with_retry_after() -> None:
    clock = Clock()
    buckets = TokenBuckets({"citizen": Limit(2.0, 2), "agency": Limit(0, 0)}, clock=clock)
    assert buckets.take("citizen", "a") == (True, 0)
    assert buckets.take("citizen", "a") == (True, 0)
    assert buckets.take("citizen", "a") == (False, 1)
    assert buckets.take("citizen", "b") == (True, 0)  # its own bucket
    clock.now += 0.5
    assert buckets.take("citizen", "a") == (True, 0)  # refilled one token
    assert buckets.take("agency", "x") == (True, 0)  # rate 0 = unlimited
