"""Forwarding a call to its agency: the circuit breaker, the body (buffered, or spooled within
the agency's limit then streamed: the assertion binds its digest), the upstream headers with a
fresh assertion per delivery (:class:`.Sign`), timeouts, and retries of idempotent calls on
502/503/504 or an unreachable agency.

It answers the agency's response (whose body the pipeline streams and audits) or a
:class:`.Refusal` (the breaker is open, the agency failed, the caller was too slow, too large
or gone); the pipeline renders and audits either.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections.abc import AsyncIterator
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

        # a larger body is spooled whole before it is forwarded: the assertion binds its
        # digest (bdh), which is known only once the last byte has arrived
        assert call.op is not None
        # closed on every failure below, else by __call__ once delivered (_Spooled.close)
        spool = tempfile.SpooledTemporaryFile(max_size=self.settings.buffer_request_bytes)  # noqa: SIM115
        seen = 0
        chunks = request.stream().__aiter__()
        try:
            # the caller has the agency's own timeout to deliver its body
            async with asyncio.timeout(call.op.timeout_s):
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
                    spool.write(chunk)
            if seen <= self.settings.buffer_request_bytes:
                # small after all (chunked, no Content-Length): forwarded as bytes
                spool.seek(0)
                return spool.read()
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return _Spooled(spool, call)

    async def __call__(self, call: Call) -> Refusal | httpx.Response:
        declared = call.declared
        op = call.op
        assert op is not None
        breaker = self.breakers.for_agency(op.agency)
        allowed, probe = breaker.try_acquire()
        if not allowed:
            retry = breaker.retry_after_s()
            return Refusal(
                503,
                "circuit-open",
                "Agency unavailable",
                f"{op.agency} is failing; the gateway stopped calling it for now",
                headers={"Retry-After": str(retry)},
                outcome="circuit-open",
            )
        try:
            body = await self._request_body(call, declared)
        except (RequestTooLarge, CallerGone, TimeoutError) as exc:
            if probe:
                breaker.release_probe()
            if isinstance(exc, TimeoutError):
                return _caller_too_slow()
            if call.caller_gone:
                return caller_gone()
            return too_large(call)
        try:
            return await self._deliver(call, body, breaker, probe)
        finally:
            if isinstance(body, _Spooled):
                body.close()

    async def _deliver(
        self,
        call: Call,
        body: bytes | AsyncIterator[bytes] | None,
        breaker: CircuitBreaker,
        probe: bool,
    ) -> Refusal | httpx.Response:
        op = call.op
        assert op is not None
        headers = self._upstream_headers(call)
        retryable = call.method in IDEMPOTENT and not isinstance(body, AsyncIterator)
        attempts = 1 + (self.settings.upstream_retries if retryable else 0)
        base, base_path, origin = agency_base(op.base_url)
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
                                [*headers, self.sign(call)],
                                body,
                                timeouts,
                            )
                        else:
                            req = httpx.Request(
                                call.method,
                                base.copy_with(raw_path=target),
                                headers=[*headers, self.sign(call)],
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
                        return _caller_too_slow()
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
                        return Refusal(
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
                        return caller_gone()
                    return too_large(call)
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
                return Refusal(
                    503,
                    "circuit-open",
                    "Agency unavailable",
                    f"{op.agency} is failing; the gateway stopped calling it for now",
                    headers={"Retry-After": str(breaker.retry_after_s())},
                    outcome="circuit-open",
                )
            status, code, detail = failure
            title = "Gateway timeout" if status == 504 else "Bad gateway"
            return Refusal(status, code, title, detail, outcome="upstream-failed")
        return upstream


def _caller_too_slow() -> Refusal:
    return Refusal(
        408, "request-timeout", "Request timeout", "the request body did not arrive in time"
    )
