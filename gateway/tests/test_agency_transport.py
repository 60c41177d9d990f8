"""The gateway's httpx transport to agencies, against a real uvicorn server on a free port."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from egov_gateway.exchange.adapters.agency_transport import AgencyTransport, Origin
from meshkit_testing.devinfra import free_port
from meshkit_testing.polling import eventually


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/hello/{name}")
    async def hello(name: str, q: str = "") -> dict[str, str]:
        return {"hello": name, "q": q}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, object]:
        body = await request.body()
        return {
            "sha256": hashlib.sha256(body).hexdigest(),
            "x": request.headers.get("x-test"),
            "host": request.headers.get("host"),
            "raw_x": [v.decode("latin-1") for k, v in request.headers.raw if k == b"x-test"],
        }

    @app.get("/big")
    async def big() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(40):
                yield bytes([65 + i % 26]) * 50_000

        return StreamingResponse(chunks())

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(2)
        return {"slow": True}

    return app


@pytest.fixture
async def agency_url() -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="error"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started, within=30, what="the agency to listen", interval=0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _send(
    t: AgencyTransport, method: str, url: str, **kw: object
) -> tuple[httpx.Response, bytes]:
    timeout = kw.pop("timeout", httpx.Timeout(5.0))
    assert isinstance(timeout, httpx.Timeout)
    req = httpx.Request(method, url, extensions={"timeout": timeout.as_dict()}, **kw)  # type: ignore[arg-type]
    resp = await t.handle_async_request(req)
    body = b"".join([c async for c in resp.aiter_raw()])
    await resp.aclose()
    return resp, body


async def test_keep_alive_requests_bodies_and_streamed_answers(agency_url: str) -> None:
    t = AgencyTransport(max_connections=4)
    try:
        for i in range(20):  # one connection, reused
            resp, body = await _send(t, "GET", f"{agency_url}/hello/Әлия?q={i}")
            assert resp.status_code == 200 and httpx.Response(200, content=body).json()["q"] == str(
                i
            )
        assert sum(len(v) for v in t._idle.values()) == 1
        payload = "Қазақстан".encode() * 1000
        resp, body = await _send(
            t, "POST", f"{agency_url}/echo", content=payload, headers={"x-test": "1"}
        )
        answer = httpx.Response(200, content=body).json()
        assert answer["sha256"] == hashlib.sha256(payload).hexdigest() and answer["x"] == "1"
        resp, body = await _send(t, "GET", f"{agency_url}/big")  # chunked, 2 MB, back-pressure
        assert resp.headers.get("transfer-encoding") == "chunked" and len(body) == 2_000_000
        results = await asyncio.gather(
            *(_send(t, "GET", f"{agency_url}/hello/x") for _ in range(12))
        )
        assert all(r.status_code == 200 for r, _ in results)
        assert sum(len(v) for v in t._idle.values()) <= 4  # never more than the limit
    finally:
        await t.aclose()


async def test_refused_and_slow_agencies_raise_httpx_errors(agency_url: str) -> None:
    t = AgencyTransport()
    try:
        with pytest.raises(httpx.ConnectError):
            await _send(t, "GET", f"http://127.0.0.1:{free_port()}/x")
        with pytest.raises(httpx.ReadTimeout):
            await _send(t, "GET", f"{agency_url}/slow", timeout=httpx.Timeout(0.3))
        resp, _ = await _send(t, "GET", f"{agency_url}/hello/after")  # still usable
        assert resp.status_code == 200
    finally:
        await t.aclose()


async def test_lean_send_speaks_the_same_http_and_shares_the_pool(agency_url: str) -> None:
    """``send`` (the gateway's hot path, no httpx.Request) frames requests exactly as the
    httpx path does: Host, Content-Length, header bytes unchanged; same keep-alive pool."""
    t = AgencyTransport(max_connections=4)
    origin = Origin.of(httpx.URL(agency_url))
    assert origin is not None and Origin.of(httpx.URL("https://agency.example")) is None
    timeouts = httpx.Timeout(5.0).as_dict()
    try:
        payload = "Қазақстан".encode() * 500
        # a header value as Starlette hands it over: latin-1 text of the bytes on the wire
        raw_value = "Әлия".encode().decode("latin-1")
        for _ in range(3):
            # the caller's own framing headers (as forwarded by the exchange) are not repeated
            forwarded = [("x-test", raw_value), ("content-length", str(len(payload)))]
            forwarded += [("Host", "elsewhere.example")]
            resp = await t.send(origin, "POST", b"/echo", forwarded, payload, timeouts)
            body = b"".join([c async for c in resp.aiter_raw()])
            await resp.aclose()
            answer = httpx.Response(200, content=body).json()
            assert resp.status_code == 200
            assert answer["sha256"] == hashlib.sha256(payload).hexdigest()
            assert answer["host"] == f"127.0.0.1:{origin.port}"
            assert answer["raw_x"] == [raw_value]  # the same bytes arrived
        # the target goes out byte for byte: the gateway passes the caller's encoded path
        target = b"/hello/" + quote("Әлия").encode() + b"?q=7"
        resp = await t.send(origin, "GET", target, [], None, timeouts)
        body = b"".join([c async for c in resp.aiter_raw()])
        await resp.aclose()
        assert httpx.Response(200, content=body).json() == {"hello": "Әлия", "q": "7"}
        # the httpx path reuses the connection the lean one left idle
        resp, _ = await _send(t, "GET", f"{agency_url}/hello/x")
        assert resp.status_code == 200
        assert sum(len(v) for v in t._idle.values()) == 1
        with pytest.raises(httpx.ConnectError):
            dead = Origin.of(httpx.URL(f"http://127.0.0.1:{free_port()}"))
            assert dead is not None
            await t.send(dead, "GET", b"/x", [], None, timeouts)
    finally:
        await t.aclose()


async def test_a_pooled_connection_the_agency_closed_is_not_reused(agency_url: str) -> None:
    """An agency killed (or restarted) leaves its keep-alive connections in the pool; one
    closed under us before ``connection_lost`` ran must not carry the next request (uvloop
    raised RuntimeError "the handler is closed" → the gateway answered 500)."""
    t = AgencyTransport()
    try:
        resp, _ = await _send(t, "GET", f"{agency_url}/hello/first")
        assert resp.status_code == 200
        [conn] = [c for conns in t._idle.values() for c in conns]
        assert conn.transport is not None
        conn.transport.close()  # connection_lost is only scheduled: conn.closed is still False
        assert not conn.closed
        resp, body = await _send(t, "GET", f"{agency_url}/hello/second")
        assert resp.status_code == 200 and b"second" in body
        with pytest.raises(httpx.WriteError):  # and a closed one is never written to
            await conn.exchange(b"GET / HTTP/1.1\r\n\r\n", 1.0)
    finally:
        await t.aclose()
