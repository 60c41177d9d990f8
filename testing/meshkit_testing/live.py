"""A service app running in-process on its own event loop thread, driven by synchronous code.

Property-based tests (hypothesis, schemathesis) and long table-driven suites call an app
thousands of times from plain synchronous test functions. :class:`LiveApp` starts the app's
lifespan (migrations, runtime) once on a private event loop in a background thread and hands
each request to that loop, so every request and every database check runs on the loop that
owns the app's engine — whatever event loop the test runner itself uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Coroutine, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select

from meshkit.messaging.tables import outbox_journal
from meshkit_testing.apps import running
from meshkit_testing.devinfra import free_port

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

T = TypeVar("T")

REQUEST_TIMEOUT_S = 60.0


class LiveApp:
    """``with LiveApp(app) as live: live.request("GET", "/health/live")``."""

    def __init__(
        self, app: FastAPI, *, name: str = "app", companions: Mapping[str, FastAPI] | None = None
    ) -> None:
        self.app = app
        self.name = name
        # apps started first on the same loop (e.g. the agencies behind a gateway under test)
        self.companions: dict[str, FastAPI] = dict(companions or {})
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"live-{name}", daemon=True
        )
        self._client: httpx.AsyncClient | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> LiveApp:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        for companion in self.companions.values():
            await self._stack.enter_async_context(running(companion))
        self._client = await self._stack.enter_async_context(running(self.app))

    def listen(self) -> str:
        """Also serve the (started) app on a real port, for a service that calls it over HTTP;
        its base URL. Same loop, same lifespan: one app, reached in-process or by network."""
        if self._server is None:
            port = free_port()
            self._server = uvicorn.Server(
                uvicorn.Config(
                    self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
                )
            )

            async def serve() -> None:
                assert self._server is not None
                self._serving = asyncio.create_task(self._server.serve())
                deadline = asyncio.get_running_loop().time() + 10
                while not self._server.started:  # poll with a deadline, not a sleep
                    if asyncio.get_running_loop().time() > deadline:
                        raise RuntimeError(f"{self.name} did not start listening")
                    await asyncio.sleep(0.02)

            self.run(serve())
            self.port = port
        return f"http://127.0.0.1:{self.port}"

    async def _stop_listening(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self.run(self._stop_listening())
            if self._stack is not None:
                self.run(self._stack.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            if not self._thread.is_alive():
                self._loop.close()

    def __enter__(self) -> LiveApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- running things on the app's loop -------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T] | Awaitable[T], timeout: float = 120) -> T:
        async def wrap() -> T:
            return await coro

        fut: Future[T] = asyncio.run_coroutine_threadsafe(wrap(), self._loop)
        return fut.result(timeout=timeout)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._client

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send a request built with :meth:`build` (or by hand) and read the whole answer."""
        return self.run(self.client.send(request), timeout=REQUEST_TIMEOUT_S)

    def build(self, method: str, url: str, **kwargs: Any) -> httpx.Request:
        return self.client.build_request(method, url, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.send(self.build(method, url, **kwargs))

    def send_raw_path(
        self,
        method: str,
        raw_path: bytes,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send ``raw_path`` exactly as given (no dot-segment removal, no re-encoding)."""
        request = self.client.build_request(method, "/", headers=headers, content=content)
        request.url = request.url.copy_with(raw_path=raw_path)
        return self.send(request)

    # -- what the service stored ----------------------------------------------------------
    def outbox_rows(self) -> int:
        """Rows in the service's transactional outbox (every domain change writes one)."""

        async def count() -> int:
            engine = self.app.state.runtime.engine
            async with engine.connect() as conn:
                n = (await conn.execute(select(func.count()).select_from(journal))).scalar_one()
            return int(n)

        return self.run(count())
