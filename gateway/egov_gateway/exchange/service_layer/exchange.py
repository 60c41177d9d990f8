"""The routed exchange pipeline (DESIGN §4.2 / §4.2a).

per-source admission → resolve → authenticate → limit → authorize → size (:mod:`.steps`) →
sign + forward (:mod:`.forward`: breaker, assertion, request id, trace, timeouts, retries of
idempotent methods) → audit → answer.

Every outcome, success or refusal, leaves one audit record, and no answer leaves the gateway
before its record is durable:
- refusals and upstream answers up to ``buffer_response_bytes`` are held whole, audited, then
  sent in one piece;
- larger upstream answers are streamed: status and headers go out first, every chunk is hashed
  on the way, and the LAST chunk is held back until the record (with the digest of the whole
  body) is committed. A gateway killed before that leaves the client with a truncated
  response (Content-Length or chunked framing incomplete), i.e. not an answered call.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from egov_gateway.exchange.adapters.audit_writer import AuditUnavailable, AuditWriter
from egov_gateway.exchange.adapters.mandate import MandateVerifier
from egov_gateway.exchange.adapters.tokens import TokenVerifier
from egov_gateway.exchange.domain.breaker import Breakers
from egov_gateway.exchange.domain.headers import (
    STRIP_RESPONSE,
    XRoadService,
    connection_tokens,
)
from egov_gateway.exchange.domain.ratelimit import TokenBuckets
from egov_gateway.exchange.domain.register_port import RegisterPort
from egov_gateway.exchange.service_layer.call import Call
from egov_gateway.exchange.service_layer.forward import Forward, agency_base
from egov_gateway.exchange.service_layer.source import SourceLimits, SourceResolver, limited_problem
from egov_gateway.exchange.service_layer.steps import (
    Authenticate,
    Authorize,
    CheckSize,
    Limit,
    Refusal,
    Resolve,
    Sign,
    Step,
)
from egov_gateway.settings import GatewaySettings
from meshkit.auth.keys import KeyRing
from meshkit.context import accept_request_id
from meshkit.problems import PROBLEM_BASE, PROBLEM_JSON

log = structlog.get_logger("egov_gateway.exchange")


# refusals before authorisation: they spend the source's failure budget (service_layer/source.py)
_SOURCE_FAILURES = frozenset(
    {"unauthenticated", "unknown-operation", "unknown-agency", "unknown-service"}
)


class RoutedExchange:
    def __init__(
        self,
        settings: GatewaySettings,
        *,
        register: RegisterPort,
        keyring: KeyRing,
        verifier: TokenVerifier,
        writer: AuditWriter,
        transport: httpx.AsyncBaseTransport,
        breakers: Breakers,
        buckets: TokenBuckets,
        mandates: MandateVerifier | None = None,
        source_limits: SourceLimits | None = None,
    ) -> None:
        self.settings = settings
        # the register routes are resolved against; a test may swap it on a running gateway
        self.register = register
        self.keyring = keyring
        self.writer = writer
        self.breakers = breakers
        self.source_limits = source_limits or SourceLimits(
            SourceResolver(settings.trusted_networks)
        )
        self._verifier = verifier
        self._buckets = buckets
        self._mandates = mandates  # the single window's citizen mandates (adapters/mandate.py)
        self.sign = Sign(lambda: self.keyring)
        self.forward = Forward(settings, transport=transport, breakers=breakers, sign=self.sign)
        self._build_steps()

    def _build_steps(self) -> None:
        """The steps before forwarding, in order (:mod:`.steps`); rebuilt when a test kit
        swaps the verifier or the buckets."""
        self.steps: tuple[Step, ...] = (
            Resolve(lambda: self.register),
            Authenticate(self._verifier, self._mandates),
            Limit(self._buckets, lambda call: self.source_limits.source_of(call.request.scope)),
            Authorize(lambda: self.register, self.settings.require_purpose),
            CheckSize(self.settings.body_limit),
        )

    @property
    def verifier(self) -> TokenVerifier:
        return self._verifier

    @verifier.setter
    def verifier(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier
        self._build_steps()

    @property
    def buckets(self) -> TokenBuckets:
        return self._buckets

    @buckets.setter
    def buckets(self, buckets: TokenBuckets) -> None:
        self._buckets = buckets
        self._build_steps()

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        return self.forward.transport

    @transport.setter
    def transport(self, transport: httpx.AsyncBaseTransport) -> None:
        self.forward.transport = transport

    @property
    def mandates(self) -> MandateVerifier | None:
        return self._mandates

    # -- entrypoints -------------------------------------------------------------------
    async def route(self, request: Request, agency: str, prefix_segments: int) -> Response:
        """``/x/{agency}/{path}``: ``prefix_segments`` path segments precede the agency path."""
        call = self._new_call(request, agency, prefix_segments)
        limited = await self._admit(call)
        if limited is not None:
            return limited
        return await self._run(call)

    async def route_xroad(self, request: Request, service: XRoadService) -> Response:
        call = self._new_call(request, service.subsystem, 6)
        call.xroad = service
        xid = request.headers.get("x-road-id")
        if xid and "x-request-id" not in request.headers:
            call.request_id = accept_request_id(xid)
            request.state.request_id = call.request_id
        limited = await self._admit(call)
        if limited is not None:
            return limited
        if not service.valid():
            return await self.refuse(
                call,
                404,
                "unknown-service",
                "Unknown service",
                f"{service} is not a valid X-Road service identifier",
            )
        agency = await self.register.agency_for_xroad(
            service.instance, service.member_class, service.member_code, service.subsystem
        )
        if agency is None:
            return await self.refuse(
                call,
                404,
                "unknown-agency",
                "Unknown member",
                f"no member subsystem {service} in the register",
            )
        call.agency = agency
        return await self._run(call)

    def _new_call(self, request: Request, agency: str, prefix_segments: int) -> Call:
        scope = request.scope
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        # drop the gateway's own prefix, keep the agency's path byte for byte
        parts = raw_path.split(b"?", 1)[0].split(b"/", prefix_segments + 1)
        raw_agency_path = b"/" + (
            parts[prefix_segments + 1] if len(parts) > prefix_segments + 1 else b""
        )
        query: bytes = scope.get("query_string", b"")
        decoded = scope["path"].split("/", prefix_segments + 1)
        agency_path = "/" + (
            decoded[prefix_segments + 1] if len(decoded) > prefix_segments + 1 else ""
        )
        return Call(
            request=request,
            request_id=scope["state"]["request_id"],
            agency=agency,
            agency_path=agency_path,
            raw_target=raw_agency_path + (b"?" + query if query else b""),
            prefix="/".join(decoded[: prefix_segments + 1]),
        )

    async def _admit(self, call: Call) -> Response | None:
        """The per-source limits, before the token, the register or the body (source.py)."""
        limits = self.source_limits
        ok, retry = limits.admit(call.request.scope, self.buckets)
        if ok:
            return None
        body, _ = limited_problem(call.request_id, retry)
        raw = self.response_headers(call, 429, "rate-limited")
        raw += [
            (b"retry-after", str(retry).encode()),
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if limits.should_audit(limits.source_of(call.request.scope)):
            entry = call.entry(429, "source-limited", hashlib.sha256(body).hexdigest())
            try:
                await self.writer.write(entry)
            except AuditUnavailable as exc:
                return audit_unavailable(call, str(exc))
        return RawResponse(429, raw, body)

    # -- the pipeline ------------------------------------------------------------------
    async def _run(self, call: Call) -> Response:
        """The pipeline: each step in turn (:mod:`.steps`), then forward (:mod:`.forward`); a
        refusal, wherever it comes from, is rendered and audited here, once."""
        for step in self.steps:
            refusal = await step(call)
            if refusal is not None:
                return await self.refuse_with(call, refusal)
        forwarded = await self.forward(call)
        if isinstance(forwarded, Refusal):
            return await self.refuse_with(call, forwarded)
        if forwarded.status_code == 401:
            # the agency refused the caller's credentials (a wrong password at identity's
            # login, say): guessing spends the source's failure budget like a bad token
            SourceLimits.failed(call.request.scope, self.buckets)
        return AuditedUpstreamResponse(self, call, forwarded)

    # -- answers -----------------------------------------------------------------------
    def public_locations(
        self, call: Call, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        """An agency's ``Location`` never shows a client the agency's own (internal) address:
        one under the agency's base URL, or an agency-absolute path, becomes the gateway's
        path for it (``/x/{agency}/…`` or the caller's ``/r1/…`` prefix); any other absolute
        URL is dropped (the gateway cannot tell an internal host from a public one)."""
        op = call.op
        if op is None:
            return headers
        base = op.base_url.rstrip("/")
        _, base_path, _ = agency_base(op.base_url)
        out: list[tuple[bytes, bytes]] = []
        for name, value in headers:
            if name.lower() not in (b"location", b"content-location"):
                out.append((name, value))
                continue
            loc = value.decode("latin-1").strip()
            rest: str | None = None
            if loc == base or loc.startswith(base + "/") or loc.startswith(base + "?"):
                rest = loc[len(base) :]
            elif loc.startswith("/") and not loc.startswith("//"):
                path = base_path.decode("latin-1")
                if not path or loc == path or loc.startswith(path + "/"):
                    rest = loc[len(path) :]
            if rest is None:
                if "://" in loc or loc.startswith("//"):
                    log.warning(
                        "exchange.location_dropped", agency=op.agency, request_id=call.request_id
                    )
                    continue
                out.append((name, value))  # relative to the request: stays under the prefix
                continue
            if not rest.startswith("/"):
                rest = "/" + rest
            out.append((name, (call.prefix + rest).encode("latin-1")))
        return out

    def response_headers(
        self, call: Call, status: int, error_code: str | None
    ) -> list[tuple[bytes, bytes]]:
        out = [(b"x-request-id", call.request_id.encode())]
        svc = call.xroad
        if svc is not None:
            out.append((b"x-road-id", call.request_id.encode()))
            out.append((b"x-road-service", str(svc).encode()))
            out.append(
                (
                    b"x-road-request-hash",
                    base64.b64encode(call.request_hash.digest()).decode().encode(),
                )
            )
            if call.xroad_client is not None:
                out.append((b"x-road-client", str(call.xroad_client).encode()))
            if error_code is not None:
                side = "Client" if status < 500 else "Server"
                out.append((b"x-road-error", f"{side}.{error_code}".encode()))
        return out

    async def refuse_with(self, call: Call, refusal: Refusal) -> Response:
        return await self.refuse(
            call,
            refusal.status,
            refusal.code,
            refusal.title,
            refusal.detail,
            headers=dict(refusal.headers) if refusal.headers else None,
            errors=dict(refusal.errors) if refusal.errors else None,
            outcome=refusal.outcome,
        )

    async def refuse(
        self,
        call: Call,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        outcome: str | None = None,
    ) -> Response:
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + code,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": call.request_id,
        }
        if errors:
            doc["errors"] = errors
        body = json.dumps(doc, ensure_ascii=False).encode()
        if status in (401, 404) and code in _SOURCE_FAILURES:
            SourceLimits.failed(call.request.scope, self.buckets)
        entry = call.entry(status, outcome or code, hashlib.sha256(body).hexdigest())
        try:
            await self.writer.write(entry)
        except AuditUnavailable as exc:
            return audit_unavailable(call, str(exc))
        raw = self.response_headers(call, status, code)
        raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        raw += [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        return RawResponse(status, raw, body)


def audit_unavailable(call: Call, reason: str) -> Response:
    log.error("audit.unavailable", request_id=call.request_id, reason=reason)
    body = json.dumps(
        {
            "type": PROBLEM_BASE + "audit-unavailable",
            "title": "Service unavailable",
            "status": 503,
            "detail": "the call could not be recorded in the audit log, so it is not answered; "
            "retry later",
            "instance": call.request_id,
        }
    ).encode()
    return RawResponse(
        503,
        [
            (b"x-request-id", call.request_id.encode()),
            (b"retry-after", b"1"),
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        body,
    )


async def _raw_chunks(upstream: httpx.Response) -> AsyncIterator[bytes]:
    """The body as the agency sent it (a transport may have read it already)."""
    if upstream.is_stream_consumed:
        yield upstream.content
        return
    async for chunk in upstream.aiter_raw():
        yield chunk


class RawResponse(Response):
    """A response whose headers are already the raw ASGI list (no re-encoding on the hot path)."""

    def __init__(self, status: int, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.body = body
        self.raw_headers = raw_headers
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body})


class AuditedUpstreamResponse(Response):
    """The agency's answer, released only once its audit record is durable (module docs)."""

    def __init__(self, exchange: RoutedExchange, call: Call, upstream: httpx.Response) -> None:
        self.exchange = exchange
        self.call = call
        self.upstream = upstream
        self.status_code = upstream.status_code
        self.background = None
        drop = STRIP_RESPONSE | connection_tokens(upstream.headers.get("connection"))
        headers = [
            (k, v) for k, v in upstream.headers.raw if k.lower().decode("latin-1") not in drop
        ]
        if 300 <= upstream.status_code < 400 or upstream.status_code == 201:
            headers = exchange.public_locations(call, headers)
        self.raw_headers = exchange.response_headers(call, upstream.status_code, None) + headers
        # whose data the answer holds, as its owner says (e.g. the payer of an invoice read by
        # its id): the person then sees the access in their data tracker
        named = upstream.headers.get("x-mesh-data-subject")
        if named and len(named) == 12 and named.isdigit():
            call.data_subject = named

    async def _audit(self, digest: str) -> None:
        await self.exchange.writer.write(self.call.entry(self.status_code, "forwarded", digest))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        upstream = self.upstream
        relay = _Relay(send, self.status_code, self.raw_headers)
        limit = self.exchange.settings.buffer_response_bytes
        try:
            try:
                async for chunk in _raw_chunks(upstream):
                    if chunk:
                        await relay.feed(chunk, limit)
            except httpx.HTTPError as exc:
                # the agency broke off mid-answer: record it, and never complete the response
                await self._broke(exc, relay)
                if relay.started:
                    raise
                refusal = await self.exchange.refuse(
                    self.call,
                    502,
                    "upstream-broke",
                    "Bad gateway",
                    f"{self.call.agency} broke off its answer",
                    outcome="upstream-broke",
                )
                await refusal(scope, receive, send)
                return
            try:
                await self._audit(relay.hasher.hexdigest())
            except AuditUnavailable as exc:
                if relay.started:
                    raise
                await audit_unavailable(self.call, str(exc))(scope, receive, send)
                return
            await relay.finish()
        finally:
            await upstream.aclose()

    async def _broke(self, exc: httpx.HTTPError, relay: _Relay) -> None:
        log.warning("exchange.upstream_broke", agency=self.call.agency, error=type(exc).__name__)
        self.exchange.breakers.for_agency(self.call.agency).record(success=False)
        if relay.started:  # the client sees a truncated answer; the record says why
            with contextlib.suppress(AuditUnavailable):
                await self.exchange.writer.write(
                    self.call.entry(502, "upstream-broke", relay.hasher.hexdigest())
                )


class _Relay:
    """An answer on its way to the client: held whole while it fits ``limit``, then streamed
    with the LAST chunk held back until :meth:`finish` (called once the record is durable)."""

    def __init__(self, send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.send = send
        self.status = status
        self.headers = headers
        self.hasher = hashlib.sha256()
        self.held: list[bytes] = []
        self.size = 0
        self.started = False  # status and headers sent
        self.pending: bytes | None = None  # the chunk held back while streaming

    async def feed(self, chunk: bytes, limit: int) -> None:
        self.hasher.update(chunk)
        if not self.started:
            self.held.append(chunk)
            self.size += len(chunk)
            if self.size > limit:  # too big to hold: stream, holding back the last chunk
                await self._start()
                self.pending, self.held = b"".join(self.held), []
            return
        if self.pending is not None:
            await self.send({"type": "http.response.body", "body": self.pending, "more_body": True})
        self.pending = chunk

    async def finish(self) -> None:
        if not self.started:
            await self._start()
            await self.send({"type": "http.response.body", "body": b"".join(self.held)})
        else:
            await self.send({"type": "http.response.body", "body": self.pending or b""})

    async def _start(self) -> None:
        self.started = True
        await self.send(
            {"type": "http.response.start", "status": self.status, "headers": self.headers}
        )
