"""Pure-ASGI middleware: request id, W3C trace context, metrics and one access log line.

Pure ASGI (not BaseHTTPMiddleware) so it adds microseconds, not milliseconds, and streams.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshkit import context
from meshkit.observability import metrics

log = structlog.get_logger("meshkit.http")

_QUIET = ("/health/", "/metrics")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = context.accept_request_id(headers.get("x-request-id"))
        incoming = context.TraceContext.parse(headers.get("traceparent"))
        trace = incoming.child() if incoming else context.TraceContext.new()
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        scope["state"]["trace"] = trace
        tokens = context.bind(request_id, trace)
        # a caller acting for an application (the single window, an agency handling it)
        # names it: the events this request writes carry it as their correlationid
        # (an unusable one is dropped: the request id stands in)
        correlation = headers.get("x-correlation-id")
        if correlation and context.accept_request_id(correlation) != correlation:
            correlation = None
        causes = context.bind_causes(correlation, None)
        started = time.perf_counter()
        status = 500
        rid_header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                hdrs: list[Any] = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in hdrs):
                    hdrs.append(rid_header)
                message["headers"] = hdrs
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            key = (method, template, status)
            children = self._children.get(key)
            if children is None:  # (labels() costs more than the observation itself)
                children = (
                    metrics.HTTP_REQUESTS.labels(self.service, method, template, str(status)),
                    metrics.HTTP_LATENCY.labels(self.service, method, template),
                )
                if len(self._children) < 10_000:
                    self._children[key] = children
            children[0].inc()
            children[1].observe(elapsed)
            path = scope.get("path", "")
            if not path.startswith(_QUIET):
                log.info(
                    "http.request",
                    method=method,
                    path=path,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                )
            context.unbind_causes(causes)
            context.unbind(tokens)
