"""One routed call as the pipeline learns it (:mod:`.exchange`, :mod:`.steps`)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from egov_gateway.exchange.domain.access import ANONYMOUS_CLIENT
from egov_gateway.exchange.domain.audit import AuditEntry
from egov_gateway.exchange.domain.headers import XRoadClient, XRoadService
from egov_gateway.exchange.domain.register_port import ResolvedOperation
from meshkit.auth.principal import Principal

MAX_PURPOSE = 500
MAX_PATH = 2048


class RequestTooLarge(Exception):
    pass


class CallerGone(Exception):
    """The caller disconnected while its body was being read."""


@dataclass
class Call:
    """What the pipeline learns about one call, for the audit record and the answer."""

    request: Request
    request_id: str
    agency: str
    agency_path: str  # decoded, as the agency sees it
    raw_target: bytes  # encoded path + query, forwarded unchanged
    xroad: XRoadService | None = None
    xroad_client: XRoadClient | None = None
    started: float = field(default_factory=time.perf_counter)
    at_us: int = field(default_factory=lambda: time.time_ns() // 1000)
    op: ResolvedOperation | None = None
    principal: Principal | None = None
    client: str = ANONYMOUS_CLIENT
    user: str | None = None
    purpose: str | None = None
    request_hash: Any = field(default_factory=hashlib.sha256)
    body_too_large: bool = False  # set by the streaming body when it overflows the limit
    data_subject: str | None = None  # named by the agency's answer (X-Mesh-Data-Subject)
    body_limit: int = 0  # the largest body this call may carry (the agency's limit)
    body_pending: bool = False  # a streamed body is still arriving from the caller
    awaiting_caller: bool = False  # … and the gateway is waiting for its next chunk
    caller_gone: bool = False  # the caller disconnected mid-body
    prefix: str = ""  # the gateway's path before the agency path (/x/identity, /r1/…)
    declared: int | None = None  # the body's length as the caller announced it

    @property
    def method(self) -> str:
        return self.request.method

    def entry(self, status: int, outcome: str, response_sha256: str) -> AuditEntry:
        op = self.op
        return AuditEntry(
            at_us=self.at_us,
            request_id=self.request_id,
            client=self.client[:64],
            user=(self.user or None) and self.user[:32],
            subject=self.data_subject
            or (op.subject_value[:64] if op and op.subject_value else None),
            agency=(op.agency if op else self.agency)[:64],
            operation_id=op.operation_id if op else None,
            service_code=op.service_code if op else None,
            purpose=self.purpose,
            method=self.method,
            path=self.agency_path[:MAX_PATH],
            status=status,
            outcome=outcome,
            latency_us=int((time.perf_counter() - self.started) * 1_000_000),
            request_sha256=self.request_hash.hexdigest(),
            response_sha256=response_sha256,
        )
