"""Security events of the gateway's own APIs in the audit log: a refused admin API call, a
refused read of the audit log. Same hash-chained log and writer as the routed exchange's
records (agency ``gateway``, operation ``gateway:<METHOD> <route>``); the digests are of empty
bodies (the refusal's problem document is rendered after the record is written)."""

from __future__ import annotations

import time

import structlog
from starlette.requests import Request

from egov_gateway.exchange.adapters.audit_writer import AuditUnavailable, AuditWriter
from egov_gateway.exchange.domain.audit import EMPTY_SHA256, AuditEntry

log = structlog.get_logger("egov_gateway.audit.security")


async def record_refusal(
    writer: AuditWriter | None,
    request: Request,
    status: int,
    outcome: str,
    *,
    client: str,
    user: str | None = None,
) -> None:
    """Write one record of a refused call; never raises (the refusal stands either way)."""
    if writer is None:
        return
    route = request.scope.get("route")
    template = getattr(route, "path", None) or request.url.path
    state = request.scope.get("state") or {}
    entry = AuditEntry(
        at_us=time.time_ns() // 1000,
        request_id=str(state.get("request_id") or "-")[:128],
        client=client[:64],
        user=user[:32] if user else None,
        subject=None,
        agency="gateway",
        operation_id=f"gateway:{request.method} {template}"[:255],
        service_code=None,
        purpose=None,
        method=request.method[:16],
        path=request.url.path[:2048],
        status=status,
        outcome=outcome[:32],
        latency_us=0,
        request_sha256=EMPTY_SHA256,
        response_sha256=EMPTY_SHA256,
    )
    try:
        await writer.write(entry)
    except AuditUnavailable as exc:
        log.error("audit.security_event_unrecorded", path=entry.path, status=status, error=str(exc))
