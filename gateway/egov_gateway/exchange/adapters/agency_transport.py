"""A lean httpx transport for the gateway → agency hop: HTTP/1.1 keep-alive on asyncio
protocols, responses parsed by httptools (C), bodies streamed with back-pressure.

Why: httpx's default transport (httpcore on anyio) costs several times the CPU of the agency's
whole request handling per call, which would make the gateway its own bottleneck. This
transport keeps httpx's API (``httpx.Request`` in, streaming ``httpx.Response`` out, httpx
exceptions) and delegates what it does not handle — TLS, and request bodies that are streamed
rather than buffered — to the standard ``httpx.AsyncHTTPTransport``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import httptools
import httpx

_PAUSE_AT = 1 << 20  # stop reading from the agency while this much body waits unread
_RESUME_AT = 1 << 18
_EOF = object()
# headers ``send`` writes itself: a caller's copy would make a second, conflicting one
_FRAMING = frozenset({"host", "content-length", "transfer-encoding"})


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = time.monotonic()
        self._parser: Any = None
        self._head: asyncio.Future[None] | None = None
        self._chunks: deque[Any] = deque()
        self._buffered = 0
        self._more = asyncio.Event()
        self._headers: list[tuple[bytes, bytes]] = []
        self._error: Exception | None = None
        self.status = 0
        self.complete = False
        self.keep_alive = False
        self.received_any = False

    # -- asyncio.Protocol ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports implement asyncio.Transport without subclassing it)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        if self._parser is None:  # bytes outside a request/response exchange
            self._fail(httpx.RemoteProtocolError("unexpected data from the agency"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed answer from the agency: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._parser is None or self.complete:
            return
        names = {name.lower() for name, _ in self._headers}
        if self.status and not names & {b"content-length", b"transfer-encoding"}:
            self.on_message_complete()  # a body delimited by the end of the connection
            self.keep_alive = False
            return
        self._fail(httpx.ReadError("the agency closed the connection"))

    # -- httptools callbacks -------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        if self._head is not None and not self._head.done():
            self._head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self._chunks.append(bytes(body))
        self._buffered += len(body)
        self._more.set()
        if self._buffered > _PAUSE_AT and self.transport is not None:
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = bool(self._parser.should_keep_alive())
        self._chunks.append(_EOF)
        self._more.set()

    # -- use -----------------------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        if self._error is None:
            self._error = exc
        if self._head is not None and not self._head.done():
            self._head.set_exception(exc)
        self._more.set()
        if self.transport is not None:
            self.transport.close()
        self.closed = True

    async def exchange(
        self, raw: bytes, read_timeout: float | None
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        assert self.transport is not None
        if self.transport.is_closing():
            # closed under us (the agency went away) before connection_lost ran: uvloop's
            # write would raise RuntimeError ("the handler is closed"), asyncio's drop it
            self.closed = True
            raise httpx.WriteError("the connection to the agency is closed")
        loop = asyncio.get_running_loop()
        self._parser = httptools.HttpResponseParser(self)
        self._head = loop.create_future()
        self._headers, self._chunks, self._buffered = [], deque(), 0
        self.complete, self.received_any, self._error = False, False, None
        self.transport.write(raw)
        try:
            await asyncio.wait_for(self._head, read_timeout)
        except TimeoutError:
            self._fail(httpx.ReadTimeout("the agency did not answer in time"))
            raise httpx.ReadTimeout("the agency did not answer in time") from None
        return self.status, self._headers

    async def body(self, read_timeout: float | None) -> AsyncIterator[bytes]:
        while True:
            if not self._chunks:
                if self._error is not None:
                    raise self._error
                self._more.clear()
                try:
                    await asyncio.wait_for(self._more.wait(), read_timeout)
                except TimeoutError:
                    self._fail(httpx.ReadTimeout("the agency stopped sending"))
                    raise httpx.ReadTimeout("the agency stopped sending") from None
                continue
            chunk = self._chunks.popleft()
            if chunk is _EOF:
                return
            self._buffered -= len(chunk)
            if self._buffered < _RESUME_AT and self.transport is not None:
                self.transport.resume_reading()
            yield chunk

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed and self._error is None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Body(httpx.AsyncByteStream):
    def __init__(
        self, pool: AgencyTransport, key: tuple[str, int], conn: _Connection, timeout: float | None
    ) -> None:
        self._pool, self._key, self._conn, self._timeout = pool, key, conn, timeout
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._conn.body(self._timeout):
            yield chunk

    async def aclose(self) -> None:
        if not self._released:
            self._released = True
            self._pool._release(self._key, self._conn)


@dataclass(frozen=True)
class Origin:
    """Where ``AgencyTransport.send`` connects: host, port and the Host header to send."""

    host: str
    port: int
    host_header: bytes

    @property
    def key(self) -> tuple[str, int]:
        return (self.host, self.port)

    @classmethod
    def of(cls, url: httpx.URL) -> Origin | None:
        """The origin of a plain-HTTP URL (None for HTTPS: that goes through httpx)."""
        if url.scheme != "http":
            return None
        # the pool key handle_async_request uses too; netloc is the Host httpx would send
        return cls(url.host, url.port or 80, url.netloc)


class AgencyTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        *,
        max_connections: int = 256,
        keepalive_expiry: float = 4.0,
        fallback: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._slots = asyncio.Semaphore(max_connections)
        self._max = max_connections
        # agencies close idle keep-alive connections (uvicorn: after 5 s): drop ours first
        self._expiry = keepalive_expiry
        self._fallback = fallback or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections), trust_env=False
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if (
            url.scheme != "http"
            or request.method == "HEAD"  # (a body-less answer the parser cannot tell)
            or not isinstance(request.stream, httpx.ByteStream)
        ):
            return await self._fallback.handle_async_request(request)
        body = b"".join(request.stream)  # a ByteStream: one chunk
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        key = (url.host, url.port or 80)
        target = url.raw_path
        lines = [request.method.encode(), b" ", target, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            lines += [name, b": ", value, b"\r\n"]
        lines.append(b"\r\n")
        raw = b"".join(lines) + body
        return await self._exchange(key, raw, timeouts, request)

    async def send(
        self,
        origin: Origin,
        method: str,
        target: bytes,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> httpx.Response:
        """The gateway's hot path: the same exchange without building an ``httpx.Request``
        (URL parsing and header normalisation cost more than the rest of the hop). Header
        values travel as the latin-1 text Starlette decoded them from, so bytes pass unchanged.
        Only for plain-HTTP origins, a buffered body (or none) and methods other than HEAD."""
        lines = [method.encode(), b" ", target, b" HTTP/1.1\r\nhost: ", origin.host_header, b"\r\n"]
        for name, value in headers:
            if name.lower() in _FRAMING:  # framed here, from the body actually sent
                continue
            lines += [name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"]
        if body is not None:
            lines += [b"content-length: ", str(len(body)).encode(), b"\r\n\r\n", body]
        else:
            lines.append(b"\r\n")
        return await self._exchange(origin.key, b"".join(lines), timeouts, None)

    async def _exchange(
        self,
        key: tuple[str, int],
        raw: bytes,
        timeouts: Mapping[str, float | None],
        request: httpx.Request | None,
    ) -> httpx.Response:
        conn = await self._acquire(key, timeouts.get("connect"))
        try:
            status, headers = await conn.exchange(raw, timeouts.get("read"))
        except BaseException:
            conn.close()
            self._release(key, conn)
            raise
        return httpx.Response(
            status,
            headers=headers,
            stream=_Body(self, key, conn, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def _acquire(self, key: tuple[str, int], connect_timeout: float | None) -> _Connection:
        # a slot per request in flight: at most max_connections connections are busy
        await self._slots.acquire()
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            closing = conn.transport is None or conn.transport.is_closing()
            if not conn.closed and not closing and now - conn.idle_since < self._expiry:
                return conn
            conn.close()
        loop = asyncio.get_running_loop()
        try:
            _, proto = await asyncio.wait_for(
                loop.create_connection(_Connection, key[0], key[1]), connect_timeout
            )
        except TimeoutError:
            self._slots.release()
            raise httpx.ConnectTimeout(f"connecting to {key[0]}:{key[1]} timed out") from None
        except OSError as exc:
            self._slots.release()
            raise httpx.ConnectError(f"cannot connect to {key[0]}:{key[1]}: {exc}") from None
        except BaseException:
            self._slots.release()
            raise
        return proto

    def _release(self, key: tuple[str, int], conn: _Connection) -> None:
        self._slots.release()
        idle = self._idle.setdefault(key, [])
        if conn.reusable() and len(idle) < self._max:
            conn.idle_since = time.monotonic()
            conn._parser = None
            idle.append(conn)
        else:
            conn.close()

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        with contextlib.suppress(Exception):
            await self._fallback.aclose()
