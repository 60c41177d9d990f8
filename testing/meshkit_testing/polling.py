"""Poll with a deadline — the only way tests wait for something asynchronous."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest


async def eventually(
    predicate: Callable[[], Awaitable[bool]],
    *,
    within: float,
    what: str,
    interval: float = 0.2,
) -> None:
    """Return as soon as ``predicate()`` is true; fail the test with ``what`` at the deadline."""
    deadline = time.monotonic() + within
    while True:
        if await predicate():
            return
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval)  # polling interval, not synchronisation
