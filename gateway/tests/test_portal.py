"""The gateway serves the portal at `/`: the shell on the app's routes, the assets with their
content types, a strict CSP everywhere, and none of the gateway's own paths shadowed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from egov_gateway.portal.router import ASSETS, CSP, SPA_ROUTES, STATIC_DIR, load_assets
from meshkit_testing.apps import running
from meshkit_testing.services import build_app


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app("gateway", tmp_path_factory.mktemp("portal"), kafka_enabled=False)
    async with running(app) as client:
        yield client


def _csp(header: str) -> dict[str, str]:
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in header.split(";") if d}


SHELL_PATHS = [
    "/",
    "/login",
    "/services",
    "/services/cx-birth-of-child",
    "/apply/cx-birth-of-child",
    "/applications",
    "/applications/0b6f5c52-1d7e-4f43-9f0e-7d1d5d3c9a10",
    "/applications/0b6f5c52-1d7e-4f43-9f0e-7d1d5d3c9a10/documents/RC-2026-0000042-K7M2Q9XD",
    "/verify",
    "/verify/RC-2026-0000042-K7M2Q9XD",
    "/offers",
    "/notifications",
    "/data-access",
    "/invoices",
    "/operator",
    "/centre",
]


@pytest.mark.parametrize("path", SHELL_PATHS)
async def test_app_routes_serve_the_shell_with_a_strict_csp(
    gateway: httpx.AsyncClient, path: str
) -> None:
    r = await gateway.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="/portal/app.js"></script>' in r.text
    csp = _csp(r.headers["content-security-policy"])
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_every_spa_route_is_tested() -> None:
    shapes = {re.sub(r"\{[^}]+\}", "*", p) for p in SPA_ROUTES}
    tested = {
        re.sub(r"^(/(?:services|apply|applications|verify))/[^/]+", r"\1/*", p).replace(
            "/documents/RC-2026-0000042-K7M2Q9XD", "/documents/*"
        )
        for p in SHELL_PATHS
    }
    assert shapes == tested


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("pages/catalogue.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
async def test_assets_have_their_content_type_an_etag_and_the_csp(
    gateway: httpx.AsyncClient, name: str, content_type: str
) -> None:
    r = await gateway.get(f"/portal/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"] == content_type
    assert r.content == (STATIC_DIR / name).read_bytes()
    assert r.headers["content-security-policy"] == CSP
    etag = r.headers["etag"]
    again = await gateway.get(f"/portal/{name}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


async def test_every_module_the_app_imports_is_served(gateway: httpx.AsyncClient) -> None:
    seen: set[str] = set()
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        r = await gateway.get(f"/portal/{name}")
        assert r.status_code == 200, name
        base = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
        for spec in re.findall(r'from "(\./[^"]+|\.\./[^"]+)"', r.text):
            todo.append(str(Path(base + spec).as_posix()).replace("pages/../", ""))
    assert {"api.js", "ui.js", "i18n.js", "charts.js", "pages/operator.js"} <= seen


@pytest.mark.parametrize(
    "path",
    [
        "/portal/../app.py",
        "/portal/%2e%2e/router.py",
        "/portal/..%2frouter.py",
        "/portal/index.html",
        "/portal/nope.js",
        "/portal/",
        "/portal/router.py",
    ],
)
async def test_nothing_outside_the_assets_is_served(gateway: httpx.AsyncClient, path: str) -> None:
    r = await gateway.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_unknown_paths_are_not_the_shell(gateway: httpx.AsyncClient) -> None:
    for path in ("/nowhere", "/services/a/b", "/applications/x/y"):
        r = await gateway.get(path)
        assert r.status_code == 404, path
        assert "text/html" not in r.headers.get("content-type", "")


async def test_the_gateway_api_is_not_shadowed(gateway: httpx.AsyncClient) -> None:
    r = await gateway.get("/api/v1/services", params={"q": "birth", "lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert any(s["code"] == "cx-birth-of-child" for s in r.json()["items"])
    r = await gateway.get("/api/v1/services/cx-birth-of-child")
    assert r.status_code == 200 and r.json()["kind"] == "composite"
    r = await gateway.get("/.well-known/jwks.json")
    assert r.status_code == 200 and r.json()["keys"]
    r = await gateway.get("/health/live")
    assert r.status_code == 200 and "json" in r.headers["content-type"]
    r = await gateway.get("/api/v1/me/data-access")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await gateway.get("/r1/listClients")
    assert r.status_code == 200 and "json" in r.headers["content-type"]
    r = await gateway.get("/openapi.json")
    assert r.status_code == 200
    assert not [p for p in r.json()["paths"] if p == "/" or p.startswith("/portal")]
    # the routed exchange still owns /x: an unknown agency is the exchange's 404 problem
    r = await gateway.get("/x/nowhere/persons")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_only_known_file_types_are_loaded(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("export {};")
    (tmp_path / "secret.py").write_text("x = 1")
    (tmp_path / ".hidden.js").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.css").write_text("a{}")
    assert sorted(load_assets(tmp_path)) == ["a.js", "sub/b.css"]
    assert "index.html" in ASSETS and "app.js" in ASSETS


def test_no_inline_script_or_style_in_the_shell() -> None:
    html = (STATIC_DIR / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    # no asset loads anything from another origin
    for name, asset in ASSETS.items():
        text = asset.body.decode()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), name
        assert ".innerHTML" not in text and "eval(" not in text, name
