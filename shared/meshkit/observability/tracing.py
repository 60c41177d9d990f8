"""Optional OpenTelemetry tracing (installed with the ``otel`` extra, enabled by setting)."""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger("meshkit.tracing")


def enable_tracing(app: Any, service: str) -> bool:
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        log.warning("tracing.unavailable", hint="install egov-meshkit[otel]")
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": f"svc-{service}"}))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(app)
    return True
