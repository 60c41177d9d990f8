"""Security events of the gateway's own APIs in the audit log: a refused admin API call, a
refused read of the audit log, and every call of the admin API that was let in (who changed
the register). Same hash-chained log and writer as the routed exchange's records (agency
``gateway``, operation ``gateway:<METHOD> <route>``); a refusal's digests are of empty bodies
(its problem document is rendered after the record is written), an admin call's request
digest is of the body it sent."""

from __future__ import annotations

import hashlib
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
    await _write(writer, _entry(request, status, outcome, client=client, user=user))


async def record_admin_call(
    writer: AuditWriter | None,
    request: Request,
    status: int,
    *,
    client: str,
    user: str | None,
    body: bytes,
    latency_us: int,
) -> None:
    """Write one record of an admin API call that was let in: ``client`` ``operator`` with
    the operator's IIN as ``user``, or ``break-glass``; outcome ``admin-call`` (answered
    below 400) or ``admin-call-failed``. Never raises (the call already happened)."""
    outcome = "admin-call" if status < 400 else "admin-call-failed"
    entry = _entry(
        request,
        status,
        outcome,
        client=client,
        user=user,
        request_sha256=hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256,
        latency_us=latency_us,
    )
    await _write(writer, entry)


def _entry(
    request: Request,
    status: int,
    outcome: str,
    *,
    client: str,
    user: str | None,
    request_sha256: str = EMPTY_SHA256,
    latency_us: int = 0,
) -> AuditEntry:
    route = request.scope.get("route")
    template = getattr(route, "path", None) or request.url.path
    state = request.scope.get("state") or {}
    return AuditEntry(
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
        latency_us=latency_us,
        request_sha256=request_sha256,
        response_sha256=EMPTY_SHA256,
    )


async def _write(writer: AuditWriter | None, entry: AuditEntry) -> None:
    if writer is None:
        return
    try:
        await writer.write(entry)
    except AuditUnavailable as exc:
        log.error(
            "audit.security_event_unrecorded", path=entry.path, status=entry.status, error=str(exc)
        )
