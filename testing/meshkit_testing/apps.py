"""Run a service app in-process for tests, and the conformance checks every service passes."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from meshkit.auth.assertion import sign_assertion
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.problems import PROBLEM_JSON


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (migrations, relay, consumer) and give an HTTP client to it."""
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client


def assertion_path(request: httpx.Request) -> str:
    """The path an agency sees (decoded, no query) — what the gateway signs."""
    return urllib.parse.unquote(request.url.raw_path.decode("ascii").split("?", 1)[0])


def assertion_query(request: httpx.Request) -> str:
    """The raw query string as sent, without ``?`` — the ``htq`` the gateway signs."""
    return request.url.query.decode("latin-1")


def json_body(obj: Any) -> bytes:
    """``obj`` encoded exactly as httpx sends ``json=obj`` (the bytes whose digest is signed)."""
    return httpx.Request("POST", "http://t", json=obj).content


class FakeGateway:
    """Signs X-Mesh-Assertion like the gateway does; its JWKS is pinned in a file."""

    def __init__(self, directory: Path) -> None:
        self.ring = KeyRing(SigningKey.generate())
        self.jwks_path = directory / "gateway-jwks.json"
        self.jwks_path.write_text(json.dumps(self.ring.jwks()))

    @property
    def jwks_url(self) -> str:
        return f"file://{self.jwks_path}"

    def headers(
        self,
        agency: str,
        method: str,
        path: str,
        *,
        client: str = "gateway-test",
        user: str | None = None,
        purpose: str | None = "test",
        request_id: str | None = None,
        decoded: bool = False,
        body: bytes = b"",
        json: Any = None,
        query: str | None = None,
    ) -> dict[str, str]:
        """``path`` may carry a query (signed as ``htq``, raw as httpx sends it) unless
        ``decoded``: then it is the decoded path exactly as the agency sees it, where a ``?``
        is part of a segment, and the query is ``query`` (default none). ``body`` or ``json``
        is the body the call will send (signed as its digest, ``bdh``); :meth:`auth` signs
        from the outgoing request itself."""
        rid = request_id or f"req-{time.time_ns()}"
        if json is not None:
            body = json_body(json)
        if decoded:
            signed_path = path
        else:
            signed_path, _, raw_query = path.partition("?")
            if raw_query and query is None:
                query = assertion_query(httpx.Request(method, "http://t" + path))
        token = sign_assertion(
            self.ring.current,
            agency=agency,
            method=method,
            path=signed_path,
            client=client,
            user=user,
            request_id=rid,
            purpose=purpose,
            query=query or "",
            body=body,
        )
        return {"X-Mesh-Assertion": token, "X-Request-Id": rid}

    def auth(self, agency: str, **claims: Any) -> httpx.Auth:
        """An ``httpx.Auth`` that signs each outgoing request as the gateway would forward it:
        its method, decoded path, raw query and body (and its own X-Request-Id if it sets one).
        ``claims``: ``client``, ``user``, ``purpose``, ``request_id``."""
        return _GatewayAuth(self, agency, claims)


class _GatewayAuth(httpx.Auth):
    requires_request_body = True  # the body's digest is signed

    def __init__(self, gateway: FakeGateway, agency: str, claims: dict[str, Any]) -> None:
        self.gateway = gateway
        self.agency = agency
        self.claims = claims

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        claims = dict(self.claims)
        if "x-request-id" in request.headers:
            claims["request_id"] = request.headers["x-request-id"]
        request.headers.update(
            self.gateway.headers(
                self.agency,
                request.method,
                assertion_path(request),
                decoded=True,
                query=assertion_query(request),
                body=request.content,
                **claims,
            )
        )
        yield request


async def assert_service_conformance(
    client: httpx.AsyncClient, service: str, gateway: FakeGateway | None
) -> None:
    """What every service must do, whatever its domain."""
    r = await client.get("/health/live")
    assert r.status_code == 200 and r.json()["service"] == service
    r = await client.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"]["database"] == "up"
    r = await client.get("/metrics")
    assert r.status_code == 200 and "mesh_http_requests_total" in r.text
    r = await client.get("/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
    r = await client.get("/no/such/path", headers={"X-Request-Id": "req-conformance-1"})
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["instance"] == "req-conformance-1"
    assert r.headers["x-request-id"] == "req-conformance-1"
    r = await client.post(
        "/mesh/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON
    r = await client.post("/mesh/echo", json={"message": ""})
    assert r.status_code == 422 and "message" in r.json()["errors"]
    r = await client.post("/mesh/echo", json={"message": "Әә Ғғ Ққ Ңң Өө Ұұ Үү Һһ Іі"})
    assert r.status_code == 202 and r.json()["message"] == "Әә Ғғ Ққ Ңң Өө Ұұ Үү Һһ Іі"
    if gateway is None:
        return
    # an agency refuses a call that bypasses the gateway …
    r = await client.get("/mesh/whoami")
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM_JSON
    impostor = KeyRing(SigningKey.generate())
    forged = sign_assertion(
        impostor.current,
        agency=service,
        method="GET",
        path="/mesh/whoami",
        client="registry",
        user=None,
        request_id="req-forged-0001",
    )
    r = await client.get(
        "/mesh/whoami", headers={"X-Mesh-Assertion": forged, "X-Request-Id": "req-forged-0001"}
    )
    assert r.status_code == 401
    # … and answers one carrying the gateway's assertion
    hdrs = gateway.headers(service, "GET", "/mesh/whoami", client="registry", user="900115300122")
    r = await client.get("/mesh/whoami", headers=hdrs)
    assert r.status_code == 200, r.text
    assert r.json()["client"] == "registry" and r.json()["user"] == "900115300122"
    # an assertion for another agency is refused
    other = gateway.headers("somebody-else", "GET", "/mesh/whoami")
    r = await client.get("/mesh/whoami", headers=other)
    assert r.status_code == 401
