"""Forwarding a call to its agency, in named pieces each testable alone:

- :class:`ReadBody` — the body: none, buffered, or spooled whole within the agency's limit and
  timeout (the assertion binds its digest, known only once the last byte is in);
- :func:`upstream_headers` — what the agency is told (request id, trace, client, user, purpose);
- one delivery (:meth:`Forward.attempt`) with a fresh assertion (:class:`.Sign`), judged by
  :func:`attempt_failed` when it raised;
- :class:`Forward` — the circuit breaker and retries of idempotent calls on 502/503/504 or an
  unreachable agency.

It answers the agency's response (whose body the pipeline streams and audits) or a
:class:`.Refusal` (the breaker is open, the agency failed, the caller was too slow, too large
or gone); the pipeline renders and audits either.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import IO

import httpx
from starlette.requests import ClientDisconnect

from egov_gateway.exchange.adapters.agency_transport import AgencyTransport, Origin
from egov_gateway.exchange.domain.breaker import Breakers, CircuitBreaker
from egov_gateway.exchange.domain.headers import IDEMPOTENT, STRIP_REQUEST, connection_tokens
from egov_gateway.exchange.service_layer.call import Call, CallerGone, RequestTooLarge
from egov_gateway.exchange.service_layer.steps import Refusal, Sign, caller_gone, too_large
from egov_gateway.settings import GatewaySettings
from meshkit.context import TraceContext

_RETRY_STATUSES = frozenset({502, 503, 504})


@functools.lru_cache(maxsize=1024)  # one entry per agency base URL, parsed once
def agency_base(base_url: str) -> tuple[httpx.URL, bytes, Origin | None]:
    """An agency's base URL, its path (no trailing slash) and the lean transport's origin."""
    url = httpx.URL(base_url)
    return url, url.raw_path.split(b"?", 1)[0].rstrip(b"/"), Origin.of(url)


_SPOOL_CHUNK = 64 * 1024


class _Spooled:
    """A spooled body forwarded in chunks; ``body_pending`` while it is being sent (an agency
    breaking off then refused the body). Closed by :meth:`Forward.__call__` when done."""

    def __init__(self, file: IO[bytes], call: Call) -> None:
        self.file = file
        self.call = call

    def __aiter__(self) -> _Spooled:
        return self

    async def __anext__(self) -> bytes:
        # plain reads: memory, or a temporary file the page cache still holds
        chunk = self.file.read(_SPOOL_CHUNK)
        if not chunk:
            self.call.body_pending = False
            raise StopAsyncIteration
        self.call.body_pending = True
        return chunk

    def close(self) -> None:
        self.file.close()


Body = bytes | _Spooled | None


@dataclass(frozen=True)
class ReadBody:
    """The request body as it will be forwarded: none (a body-less method), the buffered bytes
    of a small one, or a larger one spooled whole (:class:`_Spooled`, closed by the caller) —
    or why not (413 over the agency's limit, 408 too slow, 499 the caller went away)."""

    settings: GatewaySettings

    async def __call__(self, call: Call) -> Body | Refusal:
        try:
            return await self._read(call)
        except TimeoutError:
            return caller_too_slow()
        except (RequestTooLarge, CallerGone):
            return caller_gone() if call.caller_gone else too_large(call)

    async def _read(self, call: Call) -> Body:
        request = call.request
        declared = call.declared
        if (
            call.method in ("GET", "HEAD", "OPTIONS", "DELETE")
            and not declared
            and ("transfer-encoding" not in request.headers)
        ):
            return None
        if declared is not None and declared <= self.settings.buffer_request_bytes:
            return await self._buffered(call)
        return await self._spooled(call)

    def _limit(self, call: Call) -> int:
        return call.body_limit or self.settings.max_request_bytes

    async def _buffered(self, call: Call) -> bytes:
        try:
            body = await call.request.body()
        except ClientDisconnect:
            call.caller_gone = True
            raise CallerGone from None
        if len(body) > self._limit(call):
            raise RequestTooLarge
        call.request_hash.update(body)
        return body

    async def _spooled(self, call: Call) -> bytes | _Spooled:
        """A larger body is spooled whole before it is forwarded: the assertion binds its
        digest (bdh), which is known only once the last byte has arrived."""
        assert call.op is not None
        limit = self._limit(call)
        # closed on every failure below, else by Forward once delivered (_Spooled.close)
        spool = tempfile.SpooledTemporaryFile(max_size=self.settings.buffer_request_bytes)  # noqa: SIM115
        seen = 0
        try:
            # the caller has the agency's own timeout to deliver its body
            async with asyncio.timeout(call.op.timeout_s):
                async for chunk in _caller_chunks(call):
                    seen += len(chunk)
                    if seen > limit:
                        call.body_too_large = True
                        raise RequestTooLarge
                    call.request_hash.update(chunk)
                    spool.write(chunk)
            spool.seek(0)
            if seen <= self.settings.buffer_request_bytes:
                # small after all (chunked, no Content-Length): forwarded as bytes
                body = spool.read()
                spool.close()
                return body
        except BaseException:
            spool.close()
            raise
        return _Spooled(spool, call)


async def _caller_chunks(call: Call) -> AsyncIterator[bytes]:
    """The caller's body as it arrives; ``awaiting_caller`` while the gateway waits for it (a
    timeout then is the caller's slowness), ``caller_gone`` if it disconnects."""
    chunks = call.request.stream().__aiter__()
    while True:
        call.awaiting_caller = True
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        except ClientDisconnect:
            call.caller_gone = True
            raise CallerGone from None
        finally:
            call.awaiting_caller = False
        yield chunk


def upstream_headers(call: Call) -> list[tuple[str, str]]:
    """The caller's headers an agency may see (no hop-by-hop, cookies or X-Road-*), and the
    gateway's own: request id, a child trace context, client, user and purpose."""
    request = call.request
    drop = STRIP_REQUEST | connection_tokens(request.headers.get("connection"))
    out: list[tuple[str, str]] = [
        (k, v) for k, v in request.headers.items() if k not in drop and not k.startswith("x-road-")
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


@dataclass(frozen=True)
class AgencyFailed:
    """A delivery the agency failed (no answer in time, unreachable): it counts against the
    agency's breaker and an idempotent call is tried again."""

    status: int
    code: str
    detail: str

    def refusal(self) -> Refusal:
        title = "Gateway timeout" if self.status == 504 else "Bad gateway"
        return Refusal(self.status, self.code, title, self.detail, outcome="upstream-failed")


def attempt_failed(call: Call, exc: Exception) -> Refusal | AgencyFailed | None:
    """What a delivery that raised ``exc`` means: the caller's slowness (408), the agency
    refusing the body mid-way (502, the agency itself is up), the agency failing — or None when
    the caller's body was too large or the caller went away (the pipeline says which)."""
    if call.body_too_large or call.caller_gone:
        return None
    assert call.op is not None
    agency = call.op.agency
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        if call.awaiting_caller:  # the caller's body had not all arrived
            return caller_too_slow()
        return AgencyFailed(504, "upstream-timeout", f"{agency} did not answer in time")
    if call.body_pending:
        return Refusal(
            502,
            "upstream-refused-body",
            "Bad gateway",
            f"{agency} broke off the call while the body was being sent",
            outcome="upstream-refused-body",
        )
    return AgencyFailed(
        502, "upstream-unreachable", f"{agency} could not be reached ({type(exc).__name__})"
    )


def circuit_open(agency: str, breaker: CircuitBreaker) -> Refusal:
    return Refusal(
        503,
        "circuit-open",
        "Agency unavailable",
        f"{agency} is failing; the gateway stopped calling it for now",
        headers={"Retry-After": str(breaker.retry_after_s())},
        outcome="circuit-open",
    )


def caller_too_slow() -> Refusal:
    return Refusal(
        408, "request-timeout", "Request timeout", "the request body did not arrive in time"
    )


@dataclass
class _Permit:
    """The breaker's leave for one delivery; a half-open breaker's probe is either recorded
    (the agency answered or failed) or released (the call ended otherwise)."""

    breaker: CircuitBreaker
    probe: bool = False

    def renew(self) -> bool:
        allowed, self.probe = self.breaker.try_acquire()
        return allowed

    def record(self, *, success: bool) -> None:
        self.breaker.record(success=success, probe=self.probe)
        self.probe = False

    def release(self) -> None:
        if self.probe:
            self.breaker.release_probe()
            self.probe = False


Send = Callable[[], Awaitable[httpx.Response]]


class Forward:
    def __init__(
        self,
        settings: GatewaySettings,
        *,
        transport: httpx.AsyncBaseTransport,
        breakers: Breakers,
        sign: Sign,
    ) -> None:
        self.settings = settings
        # the pooled httpx transport itself: no client-side cookie jar (an agency's cookies
        # must never reach another agency), no redirects, no auth hooks — and far less work
        self.transport = transport
        self.breakers = breakers
        self.sign = sign
        self.read_body = ReadBody(settings)

    async def __call__(self, call: Call) -> Refusal | httpx.Response:
        op = call.op
        assert op is not None
        permit = _Permit(self.breakers.for_agency(op.agency))
        if not permit.renew():
            return circuit_open(op.agency, permit.breaker)
        body = await self.read_body(call)
        if isinstance(body, Refusal):
            permit.release()
            return body
        try:
            return await self._deliver(call, body, permit)
        finally:
            if isinstance(body, _Spooled):
                body.close()

    async def _deliver(self, call: Call, body: Body, permit: _Permit) -> Refusal | httpx.Response:
        """Deliveries until one is answered, up to 1 + ``upstream_retries`` for a method that
        may be repeated with a body that can be sent again; a retry needs the breaker's leave."""
        assert call.op is not None
        send = self.sender(call, body)
        retryable = call.method in IDEMPOTENT and not isinstance(body, _Spooled)
        attempts = 1 + (self.settings.upstream_retries if retryable else 0)
        failed: AgencyFailed | None = None
        try:
            for attempt in range(attempts):
                if attempt:
                    if not permit.renew():
                        break
                    await asyncio.sleep(self.settings.upstream_retry_backoff_s * attempt)
                outcome = await self.attempt(call, send)
                if isinstance(outcome, Refusal):
                    permit.release()
                    return outcome
                if isinstance(outcome, AgencyFailed):
                    permit.record(success=False)
                    failed = outcome
                    continue
                permit.record(success=outcome.status_code < 500)
                if outcome.status_code in _RETRY_STATUSES and attempt + 1 < attempts:
                    await outcome.aclose()
                    continue
                return outcome
        except BaseException:
            permit.release()
            raise
        if failed is None:  # the breaker opened between retries
            return circuit_open(call.op.agency, permit.breaker)
        return failed.refusal()

    async def attempt(self, call: Call, send: Send) -> httpx.Response | Refusal | AgencyFailed:
        """One delivery within the operation's deadline for the answer's head."""
        assert call.op is not None
        try:
            async with asyncio.timeout(call.op.timeout_s):
                upstream = await send()
        except RequestTooLarge:
            call.body_too_large = True
        except CallerGone:
            call.caller_gone = True
        except (httpx.HTTPError, TimeoutError) as exc:
            failed = attempt_failed(call, exc)
            if failed is not None:
                return failed
        else:
            if not (call.body_too_large or call.caller_gone):
                return upstream
            await upstream.aclose()  # (an in-process agency answers a truncated body)
        return caller_gone() if call.caller_gone else too_large(call)

    def sender(self, call: Call, body: Body) -> Send:
        """One delivery of ``call``, freshly signed each time: through the lean transport's own
        entry when it can take the call (plain HTTP, no HEAD, a buffered body), else httpx's."""
        op = call.op
        assert op is not None
        headers = upstream_headers(call)
        base, base_path, origin = agency_base(op.base_url)
        target = base_path + call.raw_target
        timeouts = httpx.Timeout(
            op.timeout_s, connect=min(self.settings.upstream_connect_timeout_s, op.timeout_s)
        ).as_dict()
        transport = self.transport
        if (
            isinstance(transport, AgencyTransport)
            and origin is not None
            and call.method != "HEAD"
            and not isinstance(body, _Spooled)
        ):
            lean, at, buffered = transport, origin, body

            def send_lean() -> Awaitable[httpx.Response]:
                headers_now = [*headers, self.sign(call)]
                return lean.send(at, call.method, target, headers_now, buffered, timeouts)

            return send_lean

        def send() -> Awaitable[httpx.Response]:
            request = httpx.Request(
                call.method,
                base.copy_with(raw_path=target),
                headers=[*headers, self.sign(call)],
                content=body,
                extensions={"timeout": timeouts},
            )
            return transport.handle_async_request(request)

        return send
