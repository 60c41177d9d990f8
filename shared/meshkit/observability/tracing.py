"""Optional OpenTelemetry tracing (installed with the ``otel`` extra, enabled by setting).

Tracing wraps whatever the app serves with (its middleware stack, or the fast lanes in front of
it: :mod:`meshkit.fastlane`) in OpenTelemetry's ASGI middleware: a request takes the same path
whether tracing is on or off, and every request — lane or not — gets its server span, named by
the route template it matches (never by the raw path: IINs and ids stay out of span names).
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.routing import Match
from starlette.types import ASGIApp, Scope

log = structlog.get_logger("meshkit.tracing")


def enable_tracing(app: Any, service: str, *, provider: Any = None) -> bool:
    """Trace ``app``'s requests; ``provider`` (a TracerProvider) defaults to a new global one."""
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        log.warning("tracing.unavailable", hint="install egov-meshkit[otel]")
        return False
    if provider is None:
        provider = TracerProvider(resource=Resource.create({"service.name": f"svc-{service}"}))
        trace.set_tracer_provider(provider)

    def span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
        method = scope.get("method", "HTTP")
        for route in app.router.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return f"{method} {route.path}", {"http.route": route.path}
        return method, {}

    build = app.build_middleware_stack

    def build_traced() -> ASGIApp:
        return OpenTelemetryMiddleware(
            build(), default_span_details=span_details, tracer_provider=provider
        )

    app.build_middleware_stack = build_traced
    return True
