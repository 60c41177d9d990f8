"""The routed exchange pipeline (DESIGN §4.2 / §4.2a).

resolve operation → authenticate → rate limit → access rules → circuit breaker → forward
(assertion, request id, trace, timeouts, retries for idempotent methods) → audit → answer.

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

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from egov_gateway.adapters.agency_transport import AgencyTransport, Origin
from egov_gateway.audit.writer import AuditUnavailable, AuditWriter
from egov_gateway.auth.mandate import MandateVerifier
from egov_gateway.auth.tokens import SessionEnded, TokenVerifier
from egov_gateway.domain.access import ANONYMOUS_CLIENT, client_of, decide
from egov_gateway.domain.audit import AuditEntry
from egov_gateway.domain.register_port import RegisterPort, ResolvedOperation
from egov_gateway.routing.breaker import Breakers
from egov_gateway.routing.headers import (
    IDEMPOTENT,
    STRIP_REQUEST,
    STRIP_RESPONSE,
    WHOLE_API,
    XRoadClient,
    XRoadService,
    connection_tokens,
    xroad_user,
)
from egov_gateway.routing.ratelimit import TokenBuckets
from egov_gateway.routing.source import SourceLimits, SourceResolver, limited_problem
from egov_gateway.settings import GatewaySettings
from meshkit.auth.assertion import ASSERTION_HEADER, sign_assertion
from meshkit.auth.jwks import TokenInvalid
from meshkit.auth.keys import KeyRing
from meshkit.auth.principal import Principal
from meshkit.context import TraceContext, accept_request_id
from meshkit.problems import PROBLEM_BASE, PROBLEM_JSON

log = structlog.get_logger("egov_gateway.exchange")

_RETRY_STATUSES = frozenset({502, 503, 504})
_MAX_PURPOSE = 500
_MAX_PATH = 2048


# refusals before authorisation: they spend the source's failure budget (routing/source.py)
_SOURCE_FAILURES = frozenset(
    {"unauthenticated", "unknown-operation", "unknown-agency", "unknown-service"}
)


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
            path=self.agency_path[:_MAX_PATH],
            status=status,
            outcome=outcome,
            latency_us=int((time.perf_counter() - self.started) * 1_000_000),
            request_sha256=self.request_hash.hexdigest(),
            response_sha256=response_sha256,
        )


class RoutedExchange:
    def __init__(
        self,
        settings: GatewaySettings,
        *,
        extras: Mapping[str, Any],
        verifier: TokenVerifier,
        writer: AuditWriter,
        transport: httpx.AsyncBaseTransport,
        breakers: Breakers,
        buckets: TokenBuckets,
        mandates: MandateVerifier | None = None,
        source_limits: SourceLimits | None = None,
    ) -> None:
        self.settings = settings
        self.mandates = mandates  # the single window's citizen mandates (auth/mandate.py)
        self._extras = extras  # the register and the key ring live in runtime.extras
        self.verifier = verifier
        self.writer = writer
        # the pooled httpx transport itself: no client-side cookie jar (an agency's cookies
        # must never reach another agency), no redirects, no auth hooks — and far less work
        self.transport = transport
        self._bases: dict[str, tuple[httpx.URL, bytes, Origin | None]] = {}
        self.breakers = breakers
        self.buckets = buckets
        self.source_limits = source_limits or SourceLimits(
            SourceResolver(settings.trusted_networks)
        )

    @property
    def register(self) -> RegisterPort:
        register: RegisterPort = self._extras["register"]
        return register

    @property
    def keyring(self) -> KeyRing:
        ring: KeyRing = self._extras["keyring"]
        return ring

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
        request = call.request
        headers = request.headers
        purpose = headers.get("x-mesh-purpose")
        call.purpose = purpose.strip()[:_MAX_PURPOSE] if purpose and purpose.strip() else None
        op = await self.register.resolve(
            call.agency, call.method, call.agency_path, dict(request.query_params)
        )
        if op is None:
            return await self.refuse(
                call,
                404,
                "unknown-operation",
                "Unknown operation",
                f"{call.agency} publishes no operation {call.method} {call.agency_path}",
            )
        call.op = op
        if call.xroad is not None:
            checked = await self._xroad_operation(call, op)
            if isinstance(checked, Response):
                return checked
            op = call.op = checked
        # 1. authentication (public operations need none, but a bad token is still refused)
        authz = headers.get("authorization")
        try:
            call.principal = await self.verifier.principal(authz, mandates=self.mandates)
        except TokenInvalid as exc:
            return await self.refuse(
                call,
                401,
                "unauthenticated",
                "Authentication required",
                exc.reason,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                outcome="session-ended" if isinstance(exc, SessionEnded) else None,
            )
        principal = call.principal
        if principal is None and not op.public:
            return await self.refuse(
                call,
                401,
                "unauthenticated",
                "Authentication required",
                "this operation needs a citizen or agency token (Authorization: Bearer)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        call.client = client_of(principal)
        # 2. rate limit per client
        if principal is None:
            klass, key = "anonymous", self.source_limits.source_of(request.scope)
        else:
            klass = "citizen" if principal.kind == "citizen" else "agency"
            key = principal.subject
        allowed, retry_after = self.buckets.take(klass, key)
        if not allowed:
            return await self.refuse(
                call,
                429,
                "rate-limited",
                "Too many requests",
                f"{call.client} exceeded its request rate; retry in {retry_after}s",
                headers={"Retry-After": str(retry_after)},
            )
        # 3. X-Road caller identity must be the authenticated one
        requested_user = headers.get("x-mesh-user") or None
        if call.xroad is not None:
            requested_user = xroad_user(headers.get("x-road-userid")) or requested_user
            refusal = await self._check_xroad_client(call)
            if refusal is not None:
                return refusal
        # 4. access rules: ACL for agencies, citizen-facing mark for citizens
        granted = False
        if principal is not None and principal.kind == "agency" and not op.public:
            granted = await self.register.is_granted(principal.subject, op.operation_id)
        covered = False
        if principal is not None and principal.mandate_service is not None:
            covered = await self.register.runs(principal.mandate_service, op.operation_id)
            if covered and call.xroad is None and op.service_code != principal.mandate_service:
                # the service actually used is the one applied for (audit, data tracker, svc)
                op = call.op = dataclasses.replace(op, service_code=principal.mandate_service)
        decision = decide(
            principal,
            op,
            requested_user=requested_user,
            purpose=call.purpose,
            granted=granted,
            require_purpose=self.settings.require_purpose,
            mandate_covers=covered,
        )
        if decision.allowed:
            call.user = decision.user
        elif principal is not None and principal.kind == "citizen":
            call.user = principal.subject  # a citizen's refusal is audited as theirs
        else:
            call.user = requested_user
        if not decision.allowed:
            if decision.code == "member-suspended":
                return await self.refuse(
                    call,
                    503,
                    "member-suspended",
                    "Member suspended",
                    decision.reason,
                    outcome="suspended",
                )
            if decision.code == "purpose-required":
                return await self.refuse(
                    call,
                    422,
                    "purpose-required",
                    "Purpose required",
                    decision.reason,
                    errors={"header.X-Mesh-Purpose": "required for access to a data subject"},
                    outcome="denied",
                )
            return await self.refuse(
                call, 403, "forbidden", "Not allowed", decision.reason, outcome="denied"
            )
        # 5. request size: the agency's own limit, refused here before a byte is read
        call.body_limit = self.settings.body_limit(op.agency)
        length = headers.get("content-length")
        declared = int(length) if length and length.isdigit() and len(length) < 19 else None
        if length and length.isdigit() and declared is None:
            declared = call.body_limit + 1  # absurdly large: refused below
        if declared is not None and declared > call.body_limit:
            return await self._too_large(call)
        # 6. circuit breaker, then forward
        return await self._forward(call, declared)

    async def _too_large(self, call: Call) -> Response:
        return await self.refuse(
            call,
            413,
            "payload-too-large",
            "Request too large",
            f"{call.agency} accepts bodies of at most {call.body_limit} bytes",
        )

    async def _xroad_operation(
        self, call: Call, op: ResolvedOperation
    ) -> ResolvedOperation | Response:
        """X-Road addressing is exact: the serviceCode is a service whose endpoints list the
        operation (as ``listMethods`` shows them) — an active public service of the register
        running it, or ``api`` (the member's whole API). The audit, the data tracker and the
        assertion then name the service used; under ``api`` the operation's own service, as
        ``/x/``. Checked from the resolved operation (the register snapshot): no lookup."""
        svc = call.xroad
        assert svc is not None
        code = svc.service_code
        if svc.runs_operation(op.service_code, op.service_codes):
            if code != WHOLE_API and code != op.service_code:
                return dataclasses.replace(op, service_code=code)
            return op
        call.op = dataclasses.replace(op, service_code=None)  # no service was used
        return await self.refuse(
            call,
            404,
            "unknown-service",
            "Unknown service",
            f"the service {code} does not run {op.method} {op.path_template} "
            f"(listMethods of {svc.instance}/{svc.member_class}/{svc.member_code}/"
            f"{svc.subsystem} lists its services)",
        )

    async def _check_xroad_client(self, call: Call) -> Response | None:
        raw = call.request.headers.get("x-road-client")
        principal = call.principal
        if not raw:
            return None
        client = XRoadClient.parse(raw)
        if client is None:
            return await self.refuse(
                call,
                422,
                "validation-error",
                "Your request is not valid",
                "X-Road-Client must be INSTANCE/CLASS/MEMBERCODE/SUBSYSTEM",
                errors={"header.X-Road-Client": "expected KZ/GOV/<BIN>/<subsystem>"},
            )
        if principal is not None and principal.kind == "agency":
            who = await self.register.agency_for_xroad(
                client.instance, client.member_class, client.member_code, client.subsystem
            )
            if who != principal.subject:
                return await self.refuse(
                    call,
                    403,
                    "forbidden",
                    "Not allowed",
                    f"X-Road-Client {client} is not the authenticated client {principal.subject}",
                    outcome="denied",
                )
        call.xroad_client = client
        return None

    # -- forwarding --------------------------------------------------------------------
    def _upstream_headers(self, call: Call) -> list[tuple[str, str]]:
        op = call.op
        assert op is not None
        request = call.request
        drop = STRIP_REQUEST | connection_tokens(request.headers.get("connection"))
        out: list[tuple[str, str]] = [
            (k, v)
            for k, v in request.headers.items()
            if k not in drop and not k.startswith("x-road-")
        ]
        trace: TraceContext | None = request.scope["state"].get("trace")
        out.append(("x-request-id", call.request_id))
        out.append(("traceparent", (trace.child() if trace else TraceContext.new()).header))
        out.append(("x-mesh-client", call.client))
        if call.user:
            out.append(("x-mesh-user", call.user))
        if call.purpose:
            out.append(("x-mesh-purpose", call.purpose))
        return out

    def _assertion(self, call: Call) -> tuple[str, str]:
        """A fresh assertion for one delivery: agencies refuse a replayed nonce, so a retry
        carries a new one."""
        op = call.op
        assert op is not None
        return (
            ASSERTION_HEADER,
            sign_assertion(
                self.keyring.current,
                agency=op.agency,
                method=call.method,
                path=call.agency_path,
                client=call.client,
                user=call.user,
                request_id=call.request_id,
                purpose=call.purpose,
                service_code=op.service_code,
                actor=call.principal.actor if call.principal is not None else None,
            ),
        )

    async def _request_body(
        self, call: Call, declared: int | None
    ) -> bytes | AsyncIterator[bytes] | None:
        request = call.request
        if (
            call.method in ("GET", "HEAD", "OPTIONS", "DELETE")
            and not declared
            and ("transfer-encoding" not in request.headers)
        ):
            return None
        limit = call.body_limit or self.settings.max_request_bytes
        if declared is not None and declared <= self.settings.buffer_request_bytes:
            try:
                body = await request.body()
            except ClientDisconnect:
                call.caller_gone = True
                raise CallerGone from None
            if len(body) > limit:
                raise RequestTooLarge
            call.request_hash.update(body)
            return body

        async def stream() -> AsyncIterator[bytes]:
            seen = 0
            call.body_pending = True
            chunks = request.stream().__aiter__()
            while True:
                call.awaiting_caller = True  # a timeout now is the caller's slowness
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except ClientDisconnect:
                    call.caller_gone = True
                    raise CallerGone from None
                finally:
                    call.awaiting_caller = False
                seen += len(chunk)
                if seen > limit:
                    call.body_too_large = True
                    raise RequestTooLarge
                call.request_hash.update(chunk)
                yield chunk
            call.body_pending = False

        return stream()

    async def _forward(self, call: Call, declared: int | None) -> Response:
        op = call.op
        assert op is not None
        breaker = self.breakers.for_agency(op.agency)
        allowed, probe = breaker.try_acquire()
        if not allowed:
            retry = breaker.retry_after_s()
            return await self.refuse(
                call,
                503,
                "circuit-open",
                "Agency unavailable",
                f"{op.agency} is failing; the gateway stopped calling it for now",
                headers={"Retry-After": str(retry)},
                outcome="circuit-open",
            )
        try:
            body = await self._request_body(call, declared)
        except (RequestTooLarge, CallerGone):
            if probe:
                breaker.release_probe()
            if call.caller_gone:
                return await self._caller_gone(call)
            return await self._too_large(call)
        headers = self._upstream_headers(call)
        retryable = call.method in IDEMPOTENT and not isinstance(body, AsyncIterator)
        attempts = 1 + (self.settings.upstream_retries if retryable else 0)
        base, base_path, origin = self._base(op.base_url)
        target = base_path + call.raw_target
        timeouts = httpx.Timeout(
            op.timeout_s, connect=min(self.settings.upstream_connect_timeout_s, op.timeout_s)
        ).as_dict()
        # the lean transport's own entry when it can take the call (Origin.of / send)
        lean = (
            self.transport
            if isinstance(self.transport, AgencyTransport)
            and origin is not None
            and call.method != "HEAD"
            and not isinstance(body, AsyncIterator)
            else None
        )
        upstream: httpx.Response | None = None
        failure: tuple[int, str, str] | None = None
        try:
            for attempt in range(attempts):
                if attempt:
                    allowed, probe = breaker.try_acquire()
                    if not allowed:
                        break
                    await asyncio.sleep(self.settings.upstream_retry_backoff_s * attempt)
                try:
                    # the overall deadline for the answer's head, whatever the transport
                    async with asyncio.timeout(op.timeout_s):
                        if lean is not None:
                            assert origin is not None and not isinstance(body, AsyncIterator)
                            upstream = await lean.send(
                                origin,
                                call.method,
                                target,
                                [*headers, self._assertion(call)],
                                body,
                                timeouts,
                            )
                        else:
                            req = httpx.Request(
                                call.method,
                                base.copy_with(raw_path=target),
                                headers=[*headers, self._assertion(call)],
                                content=body,
                                extensions={"timeout": timeouts},
                            )
                            upstream = await self.transport.handle_async_request(req)
                except RequestTooLarge:
                    call.body_too_large = True
                except CallerGone:
                    call.caller_gone = True
                except (httpx.TimeoutException, TimeoutError):
                    if call.awaiting_caller and not call.body_too_large and not call.caller_gone:
                        # the caller's body had not all arrived: its slowness, not the agency's
                        if probe:
                            breaker.release_probe()
                        return await self.refuse(
                            call,
                            408,
                            "request-timeout",
                            "Request timeout",
                            "the request body did not arrive in time",
                        )
                    if not call.body_too_large and not call.caller_gone:
                        breaker.record(success=False, probe=probe)
                        failure = (504, "upstream-timeout", f"{op.agency} did not answer in time")
                        continue
                except httpx.HTTPError as exc:
                    if call.body_pending and not call.body_too_large and not call.caller_gone:
                        # the agency broke off while the body was still being sent: it refused
                        # the body (too large for it, say); the agency itself is up
                        if probe:
                            breaker.release_probe()
                        return await self.refuse(
                            call,
                            502,
                            "upstream-refused-body",
                            "Bad gateway",
                            f"{op.agency} broke off the call while the body was being sent",
                            outcome="upstream-refused-body",
                        )
                    if not call.body_too_large and not call.caller_gone:
                        breaker.record(success=False, probe=probe)
                        failure = (
                            502,
                            "upstream-unreachable",
                            f"{op.agency} could not be reached ({type(exc).__name__})",
                        )
                        continue
                if call.body_too_large or call.caller_gone:
                    # (an in-process agency answers a truncated body): the caller's doing
                    if upstream is not None:
                        await upstream.aclose()
                    if probe:
                        breaker.release_probe()
                    if call.caller_gone:
                        return await self._caller_gone(call)
                    return await self._too_large(call)
                assert upstream is not None
                breaker.record(success=upstream.status_code < 500, probe=probe)
                probe = False
                if upstream.status_code in _RETRY_STATUSES and attempt + 1 < attempts:
                    await upstream.aclose()
                    upstream = None
                    continue
                break
        except BaseException:
            if probe:
                breaker.release_probe()
            if upstream is not None:
                await upstream.aclose()
            raise
        if upstream is None:
            if failure is None:  # the breaker opened between retries
                return await self.refuse(
                    call,
                    503,
                    "circuit-open",
                    "Agency unavailable",
                    f"{op.agency} is failing; the gateway stopped calling it for now",
                    headers={"Retry-After": str(breaker.retry_after_s())},
                    outcome="circuit-open",
                )
            status, code, detail = failure
            title = "Gateway timeout" if status == 504 else "Bad gateway"
            return await self.refuse(call, status, code, title, detail, outcome="upstream-failed")
        if upstream.status_code == 401:
            # the agency refused the caller's credentials (a wrong password at identity's
            # login, say): guessing spends the source's failure budget like a bad token
            SourceLimits.failed(call.request.scope, self.buckets)
        return AuditedUpstreamResponse(self, call, upstream)

    async def _caller_gone(self, call: Call) -> Response:
        """Nobody is listening any more; the record says so (nginx's 499)."""
        return await self.refuse(
            call,
            499,
            "client-closed-request",
            "Client closed request",
            "the caller disconnected before its request body arrived",
            outcome="caller-disconnected",
        )

    def _base(self, base_url: str) -> tuple[httpx.URL, bytes, Origin | None]:
        cached = self._bases.get(base_url)
        if cached is None:
            url = httpx.URL(base_url)
            cached = (url, url.raw_path.split(b"?", 1)[0].rstrip(b"/"), Origin.of(url))
            self._bases[base_url] = cached
        return cached

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
        _, base_path, _ = self._base(op.base_url)
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
        limit = self.exchange.settings.buffer_response_bytes
        hasher = hashlib.sha256()
        buffered: list[bytes] = []
        size = 0
        started = False
        pending: bytes | None = None
        try:
            chunks = _raw_chunks(upstream)
            try:
                async for chunk in chunks:
                    if not chunk:
                        continue
                    hasher.update(chunk)
                    if not started:
                        buffered.append(chunk)
                        size += len(chunk)
                        if size > limit:  # too big to hold: stream, holding back the last chunk
                            started = True
                            await send(
                                {
                                    "type": "http.response.start",
                                    "status": self.status_code,
                                    "headers": self.raw_headers,
                                }
                            )
                            pending = b"".join(buffered)
                            buffered = []
                        continue
                    if pending is not None:
                        await send(
                            {"type": "http.response.body", "body": pending, "more_body": True}
                        )
                    pending = chunk
            except httpx.HTTPError as exc:
                # the agency broke off mid-answer: record it, and never complete the response
                log.warning(
                    "exchange.upstream_broke", agency=self.call.agency, error=type(exc).__name__
                )
                self.exchange.breakers.for_agency(self.call.agency).record(success=False)
                if started:
                    with contextlib.suppress(AuditUnavailable):
                        await self.exchange.writer.write(
                            self.call.entry(502, "upstream-broke", hasher.hexdigest())
                        )
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
                await self._audit(hasher.hexdigest())
            except AuditUnavailable as exc:
                if not started:
                    await audit_unavailable(self.call, str(exc))(scope, receive, send)
                    return
                raise
            if not started:
                await send(
                    {
                        "type": "http.response.start",
                        "status": self.status_code,
                        "headers": self.raw_headers,
                    }
                )
                await send({"type": "http.response.body", "body": b"".join(buffered)})
            else:
                await send({"type": "http.response.body", "body": pending or b""})
        finally:
            await upstream.aclose()
