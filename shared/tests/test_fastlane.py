"""Fast lanes: hot routes skip FastAPI's stack but keep request id, metrics, limits, problems."""

from __future__ import annotations

from typing import ClassVar

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from meshkit.fastlane import install_fast_lanes
from meshkit.limits import RequestLimitsMiddleware
from meshkit.observability.tracing import enable_tracing
from meshkit.problems import install_problem_handlers

SERVICE = "lane-test"


async def hot(request: Request) -> Response:
    body = await request.body()
    return PlainTextResponse(
        f"{request.path_params['path']}|{request.scope.get('state', {}).get('request_id')}|{len(body)}"
    )


async def boom(request: Request) -> Response:
    raise RuntimeError("secret internals")


class Seen:
    """A user middleware of the full stack: records the paths that went through it."""

    paths: ClassVar[list[str]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            Seen.paths.append(scope["path"])
        await self.app(scope, receive, send)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(Seen)
    lanes = [
        Route("/x/{path:path}", hot, methods=["GET", "POST"]),
        Route("/boom/{p}", boom, methods=["GET"]),
    ]
    app.router.routes.extend(lanes)  # (served by the stack too, as a service does)

    @app.get("/x-normal")
    async def normal() -> dict[str, bool]:
        return {"normal": True}

    install_fast_lanes(app, lanes, service=SERVICE, max_body_bytes=1000)
    return app


def _count(route: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "mesh_http_requests_total",
        {"service": SERVICE, "method": "GET", "route": route, "status": status},
    )
    return value or 0.0


async def test_lanes_bypass_the_stack_and_keep_its_guarantees() -> None:
    Seen.paths = []
    app = _app()
    before = _count("/x/{path:path}", "200")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        r = await client.get("/x/a/b", headers={"X-Request-Id": "lane-req-1"})
        assert r.status_code == 200 and r.text == "a/b|lane-req-1|0"
        assert r.headers["x-request-id"] == "lane-req-1"
        assert _count("/x/{path:path}", "200") == before + 1  # metrics labelled by template

        r = await client.post("/x/upload", content=b"z" * 500)
        assert r.status_code == 200 and r.text.endswith("|500")
        # lane routes limit their bodies themselves: no 1000-byte buffering limit here
        r = await client.post("/x/upload", content=b"z" * 5000)
        assert r.status_code == 200 and r.text.endswith("|5000")
        r = await client.get("/x/a%00b")  # the URL checks still hold
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"

        r = await client.get("/boom/1", headers={"X-Request-Id": "lane-req-2"})
        assert r.status_code == 500
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["instance"] == "lane-req-2" and "secret" not in r.text

        r = await client.get("/x-normal")  # not a lane: the full stack
        assert r.status_code == 200 and r.json() == {"normal": True}
        r = await client.get("/nowhere")
        assert r.status_code == 404
    assert Seen.paths == ["/x-normal", "/nowhere"]


async def test_the_full_stack_leaves_self_limited_routes_their_bodies() -> None:
    """Served by the router (an app without lanes), the same routes are still exempt from the
    buffering limit, and ordinary endpoints are not."""
    app = FastAPI()
    install_problem_handlers(app)
    lanes = [Route("/x/{path:path}", hot, methods=["POST"])]
    app.router.routes.extend(lanes)

    @app.post("/form")
    async def form(body: dict[str, str]) -> dict[str, int]:
        return {"n": len(body)}

    app.add_middleware(RequestLimitsMiddleware, max_body_bytes=1000, self_limited=lanes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        r = await client.post("/x/upload", content=b"z" * 5000)
        assert r.status_code == 200 and r.text.endswith("|5000")
        r = await client.post("/form", content=b'{"a": "' + b"z" * 2000 + b'"}')
        assert r.status_code == 413


async def test_tracing_on_keeps_the_one_request_path_and_names_spans_by_template() -> None:
    sdk = pytest.importorskip("opentelemetry.sdk.trace")
    pytest.importorskip("opentelemetry.instrumentation.asgi")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    Seen.paths = []
    app = _app()
    assert enable_tracing(app, SERVICE, provider=provider)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        r = await client.get("/x/900101300001", headers={"X-Request-Id": "lane-req-3"})
        assert r.status_code == 200 and r.text == "900101300001|lane-req-3|0"
        r = await client.get("/x-normal")
        assert r.status_code == 200
    assert Seen.paths == ["/x-normal"]  # the lane still went past the stack, traced
    names = {span.name for span in exporter.get_finished_spans() if span.parent is None}
    assert names == {"GET /x/{path:path}", "GET /x-normal"}  # never the IIN in the path
