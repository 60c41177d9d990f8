"""Fast lanes: a service's hottest routes served in front of FastAPI's middleware stack.

Why: the gateway's routed exchange is one plain Starlette route, yet each call still crossed
FastAPI's error/telemetry/body-limit/exception/exit-stack middlewares and a match against every
route of every included router — about a third of the gateway's CPU per routed call (py-spy
under wrk). A lane matches its routes first and runs them with exactly the mechanics every
request needs — request id, trace context, metrics and access log (``RequestContextMiddleware``),
the URL checks of ``RequestLimitsMiddleware`` (lane routes read, limit and stream their bodies
themselves) and the service's own exception handlers, so an unexpected error is still a
problem+json 500 carrying the request id, never a stack trace.
Everything else goes through the full stack unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshkit.limits import RequestLimitsMiddleware
from meshkit.observability.middleware import RequestContextMiddleware

log = structlog.get_logger("meshkit.fastlane")


class _Endpoint:
    """The innermost app of a lane: the matched route's endpoint, errors through the app's
    exception handlers (as FastAPI's ExceptionMiddleware/ServerErrorMiddleware would)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        request = Request(scope, receive, tracking_send)
        try:
            response = await scope["endpoint"](request)
            await response(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # the answer is under way: nothing clean can be sent any more
                raise
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answer = await handler(request, exc)
            await answer(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Any:
        handlers = self.app.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
        return handlers.get(500)


class FastLanes:
    """ASGI app in front of ``inner`` (the service's full middleware stack)."""

    def __init__(
        self,
        inner: ASGIApp,
        *,
        app: FastAPI,
        routes: Sequence[Route],
        service: str,
        max_body_bytes: int,
    ) -> None:
        self.inner = inner
        self.routes = list(routes)
        # a cheap test before any regex: the literal start of every lane's path
        self.prefixes = tuple(_literal_prefix(r.path) for r in self.routes)
        self.lane: ASGIApp = RequestContextMiddleware(
            RequestLimitsMiddleware(
                _Endpoint(app), max_body_bytes=max_body_bytes, self_limited=self.routes
            ),
            service=service,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            for route in self.routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)
                    scope["route"] = route  # (metrics label the call with its template)
                    await self.lane(scope, receive, send)
                    return
        await self.inner(scope, receive, send)


def _literal_prefix(path: str) -> str:
    return path.split("{", 1)[0]


def install_fast_lanes(
    app: FastAPI, routes: Sequence[Route], *, service: str, max_body_bytes: int
) -> None:
    """Serve ``routes`` in front of ``app``'s middleware stack (built lazily by Starlette)."""
    build = app.build_middleware_stack

    def build_with_lanes() -> ASGIApp:
        return FastLanes(
            build(), app=app, routes=routes, service=service, max_body_bytes=max_body_bytes
        )

    app.build_middleware_stack = build_with_lanes  # type: ignore[method-assign]
