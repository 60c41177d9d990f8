"""Who sent a request (the source address) and the per-source limits applied before anything
else — before a token is verified, before the register is consulted, before a body is read.

The source is the TCP peer. Only when the peer is one of ``GATEWAY_TRUSTED_PROXIES`` (CIDRs,
empty by default) is ``X-Forwarded-For`` believed: the source is then its right-most address
that is not itself a trusted proxy (each proxy appends the address it saw; what a client
writes to the left of that is never reached). From any other peer X-Forwarded-For is
ignored. IPv6 sources are counted per /64 (one host's share of addresses).

Two token buckets per source, in the exchange's :class:`TokenBuckets` (per replica):

* ``source`` — every request (``GATEWAY_RATE_LIMIT_SOURCE_RPS`` / ``_BURST``);
* ``source-failures`` — refusals before authorisation: 401 (bad or missing credentials),
  404 for an unknown agency or operation, 403 of the admin API and the audit log (``GATEWAY_RATE_LIMIT_SOURCE_FAILURES_RPS`` /
  ``_BURST``). A source that has used them up gets 429 for everything until the bucket
  refills: guessing tokens or scanning operations stops after the burst.

Refusals with 429 here are not audited one by one (an attacker must not be able to grow the
audit log at full speed): the first refusal of a source in each ``SUMMARY_PERIOD_S`` is
audited (outcome ``source-limited``) and the rest are counted into the log line
``source.limited`` that summarises them. Answers that did reach authentication (401 …) stay
audited individually: the per-source failure budget is what bounds how many there can be.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from egov_gateway.exchange.adapters.audit_writer import AuditUnavailable, AuditWriter
from egov_gateway.exchange.domain.access import ANONYMOUS_CLIENT
from egov_gateway.exchange.domain.audit import EMPTY_SHA256, AuditEntry
from egov_gateway.exchange.domain.ratelimit import TokenBuckets
from meshkit.problems import PROBLEM_BASE, PROBLEM_JSON

log = structlog.get_logger("egov_gateway.source")

SOURCE = "source"
FAILURES = "source-failures"
SUMMARY_PERIOD_S = 60.0
# kept in the scope itself, not its "state" (a test harness may share one state dict)
_SOURCE_KEY = "egov.source"  # the resolved source of the request
_CHECKED = "egov.source_admitted"  # the per-source limits were applied

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=65_536)
def _normalised(host: str) -> str:
    """The bucket key of an address: IPv6 per /64, IPv4 as is, anything else verbatim."""
    if ":" not in host:
        return host
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


class SourceResolver:
    def __init__(self, trusted: Sequence[Network] = ()) -> None:
        self.trusted = list(trusted)
        self._is_trusted = functools.lru_cache(maxsize=4096)(self._trusted_uncached)

    def _trusted_uncached(self, host: str) -> bool:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in net for net in self.trusted)

    def source(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        if not self.trusted or not self._is_trusted(peer):
            return _normalised(peer)
        forwarded: list[str] = []
        for name, value in scope.get("headers") or ():
            if name.lower() == b"x-forwarded-for":
                forwarded.extend(v.strip() for v in value.decode("latin-1").split(","))
        hop = peer
        for entry in reversed(forwarded):
            if not entry:
                continue
            try:
                ipaddress.ip_address(entry)
            except ValueError:  # garbage where a proxy's entry should be: the last proxy
                break
            hop = entry
            if not self._is_trusted(entry):
                break
        return _normalised(hop)


class SourceLimits:
    """The per-source checks, shared by the routed exchange and the middleware below."""

    def __init__(self, resolver: SourceResolver) -> None:
        self.resolver = resolver
        self._summaries: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def source_of(self, scope: Scope) -> str:
        source: str | None = scope.get(_SOURCE_KEY)
        if source is None:
            source = self.resolver.source(scope)
            scope[_SOURCE_KEY] = source
        return source

    def admit(self, scope: Scope, buckets: TokenBuckets) -> tuple[bool, int]:
        """Apply the per-source limits once per request: (allowed, retry_after_s)."""
        if scope.get(_CHECKED):
            return True, 0
        scope[_CHECKED] = True
        source = self.source_of(scope)
        ok, retry = buckets.available(FAILURES, source)
        if not ok:
            return False, retry
        return buckets.take(SOURCE, source)

    @staticmethod
    def failed(scope: Scope, buckets: TokenBuckets) -> None:
        """A refusal before authorisation: charge the source's failure budget."""
        source = scope.get(_SOURCE_KEY)
        if source is not None:
            buckets.take(FAILURES, source)

    def should_audit(self, source: str) -> bool:
        """Whether this 429 is the one audited for ``source`` in the current period."""
        now = time.monotonic()
        seen = self._summaries.pop(source, None)
        if seen is None or now - seen[0] >= SUMMARY_PERIOD_S:
            if seen is not None and seen[1]:
                log.warning("source.limited", source=source, refused_unaudited=seen[1])
            self._summaries[source] = (now, 0)
            if len(self._summaries) > 100_000:
                self._summaries.popitem(last=False)
            return True
        self._summaries[source] = (seen[0], seen[1] + 1)
        return False


def limited_problem(request_id: str | None, retry_after: int) -> tuple[bytes, dict[str, Any]]:
    doc = {
        "type": PROBLEM_BASE + "rate-limited",
        "title": "Too many requests",
        "status": 429,
        "detail": f"too many requests from your address; retry in {retry_after}s",
        "instance": request_id,
    }
    return json.dumps(doc).encode(), doc


class SourceLimitMiddleware:
    """The per-source limits for everything the gateway serves outside the routed exchange's
    fast lane (its own APIs, the portal); the exchange applies them itself. Sits inside the
    request-context middleware (request id) and before the body-limit one (no body is read
    for a refused request)."""

    def __init__(self, app: ASGIApp, exchange_of: Callable[[Scope], Any]) -> None:
        self.app = app
        self.exchange_of = exchange_of  # the running exchange, None while the gateway starts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = self.exchange_of(scope)
        if exchange is None:
            await self.app(scope, receive, send)
            return
        limits: SourceLimits = exchange.source_limits
        buckets: TokenBuckets = exchange.buckets
        ok, retry = limits.admit(scope, buckets)
        if not ok:
            await self._refuse(scope, send, exchange.writer, limits, retry)
            return
        path: str = scope.get("path", "")
        counts_403 = path.startswith(("/api/v1/admin", "/api/v1/audit"))

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 401 or (status == 403 and counts_403):
                    limits.failed(scope, buckets)
            await send(message)

        await self.app(scope, receive, watching_send)

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        writer: AuditWriter | None,
        limits: SourceLimits,
        retry: int,
    ) -> None:
        state = scope.get("state") or {}
        request_id = state.get("request_id")
        body, _ = limited_problem(request_id, retry)
        source = limits.source_of(scope)
        if writer is not None and limits.should_audit(source):
            entry = AuditEntry(
                at_us=time.time_ns() // 1000,
                request_id=str(request_id or "-")[:128],
                client=ANONYMOUS_CLIENT,
                user=None,
                subject=None,
                agency="gateway",
                operation_id=None,
                service_code=None,
                purpose=None,
                method=str(scope.get("method", "?"))[:16],
                path=str(scope.get("path", ""))[:2048],
                status=429,
                outcome="source-limited",
                latency_us=0,
                request_sha256=EMPTY_SHA256,
                response_sha256=hashlib.sha256(body).hexdigest(),
            )
            try:
                await writer.write(entry)
            except AuditUnavailable:
                log.error("source.limited_unaudited", source=source)
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def install(app: Any, exchange_of: Callable[[Scope], Any]) -> None:
    """Put :class:`SourceLimitMiddleware` right inside the request-context middleware;
    ``exchange_of`` finds the running exchange (its limits, buckets and audit writer)."""
    from starlette.middleware import Middleware

    app.user_middleware.insert(
        1 if app.user_middleware else 0, Middleware(SourceLimitMiddleware, exchange_of=exchange_of)
    )
