"""The served app's heap is frozen once its startup completes (no full-heap GC pauses)."""

from __future__ import annotations

import gc
from typing import Any

from meshkit.cli import FreezeHeapAfterStartup


async def test_heap_is_frozen_after_startup_complete_and_not_before() -> None:
    seen: list[tuple[str, int]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        seen.append(("app started", gc.get_freeze_count()))
        await send({"type": "lifespan.startup.complete"})

    async def receive() -> dict[str, str]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, str]) -> None:
        seen.append((message["type"], gc.get_freeze_count()))

    gc.unfreeze()
    try:
        await FreezeHeapAfterStartup(app)({"type": "lifespan"}, receive, send)
        assert seen[0] == ("app started", 0)
        kind, frozen = seen[1]
        assert kind == "lifespan.startup.complete" and frozen > 1000
    finally:
        gc.unfreeze()  # (this test process goes on allocating and freeing)
