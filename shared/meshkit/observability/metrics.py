"""Prometheus metrics. Defined once per process (labels carry the service)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "mesh_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "mesh_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PUBLISHED = Counter("mesh_outbox_published_total", "Outbox rows published", ["service"])
OUTBOX_FAILURES = Counter("mesh_outbox_failures_total", "Failed outbox publish rounds", ["service"])
OUTBOX_PENDING = Gauge("mesh_outbox_pending", "Outbox rows not yet published", ["service"])
EVENTS_CONSUMED = Counter(
    "mesh_events_consumed_total", "Events handled (first delivery)", ["service", "type"]
)
EVENTS_DUPLICATE = Counter(
    "mesh_events_duplicate_total", "Redelivered events skipped by the inbox", ["service", "type"]
)
GATEWAY_BYPASS_REFUSED = Counter(
    "mesh_gateway_bypass_refused_total",
    "Routed endpoints called without a valid gateway assertion (refused)",
    ["service", "reason"],
)
EVENTS_DEAD_LETTERED = Counter(
    "mesh_events_dead_lettered_total", "Events sent to a dead-letter topic", ["service"]
)
