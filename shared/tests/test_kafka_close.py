"""Stopping Kafka clients never fails a service's shutdown (unit tests of meshkit.messaging).

aiokafka's ``stop()`` cancels its own fetch task and awaits it, so that task's
``CancelledError`` surfaces in the caller: on an operator's Ctrl-C every service printed a
traceback, "Application shutdown failed", and skipped the rest of its shutdown. The stub
below raises what aiokafka raises; a real broker is not needed to show it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from meshkit.messaging import EventConsumer, HandlerRegistry
from meshkit.messaging.kafka import close_client


class StopRaisesCancelled:
    """A Kafka client whose stop() re-raises the cancellation of its own inner task."""

    def __init__(self, stop_takes_s: float = 0.0) -> None:
        self.stop_takes_s = stop_takes_s
        self.stopped = False
        self.stopping = asyncio.Event()

    async def start(self) -> None:
        return None

    async def getmany(self, timeout_ms: int = 0) -> dict[Any, Any]:
        return {}

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.sleep(self.stop_takes_s)  # a slow shutdown, not a synchronisation
        self.stopped = True
        inner = asyncio.ensure_future(asyncio.sleep(10))
        inner.cancel()
        await inner  # raises CancelledError here, as aiokafka's Fetcher.close() does


async def test_a_clients_own_cancellation_does_not_escape_close() -> None:
    client = StopRaisesCancelled()
    await close_client(client, 5)  # type: ignore[arg-type]
    assert client.stopped


async def test_the_callers_own_cancellation_still_does() -> None:
    client = StopRaisesCancelled(stop_takes_s=5)
    task = asyncio.ensure_future(close_client(client, 10))  # type: ignore[arg-type]
    await asyncio.wait_for(client.stopping.wait(), 5)  # close_client is inside stop() now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not client.stopped


async def test_an_event_consumer_stops_cleanly_whatever_the_client_raises() -> None:
    stub = StopRaisesCancelled()
    consumer = EventConsumer(
        topics=["t"],
        group_id="g",
        bootstrap_servers="unused:9092",
        handlers=HandlerRegistry(),
        uow_factory=lambda: None,  # type: ignore[arg-type,return-value]
        service="test",
        consumer_factory=lambda: stub,  # type: ignore[arg-type,return-value]
    )
    assert await consumer.poll_once(timeout_ms=0) == 0  # the client is started
    await consumer.stop()  # no CancelledError: the service's shutdown goes on
    assert stub.stopped
