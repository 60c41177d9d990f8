"""Serves the portal: ``/`` and the app's own routes return the shell page, ``/portal/*`` the assets.

Only the files that exist in ``static/`` when the gateway starts are served (read once into
memory, looked up by exact name, so no path can escape the folder), with explicit content
types and a strict Content-Security-Policy: scripts, styles, images and API calls only from
the gateway's own origin, no inline script or style, no framing.

The app's routes are an explicit list (never a catch-all), so the gateway's own paths —
``/api``, ``/x``, ``/r1``, ``/.well-known``, ``/health``, ``/metrics``, ``/docs`` — are never
shadowed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response

from meshkit.errors import NotFound

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSET_PREFIX = "/portal/"

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# the app's own client-side routes (History API); each serves the shell page
SPA_ROUTES = (
    "/",
    "/login",
    "/services",
    "/services/{code}",
    "/apply/{code}",
    "/applications",
    "/applications/{application_id}",
    "/applications/{application_id}/documents/{number}",
    "/offers",
    "/notifications",
    "/data-access",
    "/invoices",
    "/operator",
    "/verify",
    "/verify/{number}",
    "/centre",
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def load_assets(folder: Path = STATIC_DIR) -> dict[str, Asset]:
    """Every servable file under ``folder`` by its relative name (``app.js``, ``pages/x.js``)."""
    assets: dict[str, Asset] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None:
            continue
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        assets[path.relative_to(folder).as_posix()] = Asset(body, content_type, etag)
    return assets


ASSETS = load_assets()
router = APIRouter(tags=["portal"], include_in_schema=False)


def _respond(request: Request, asset: Asset, cache: str) -> Response:
    headers = {**SECURITY_HEADERS, "ETag": asset.etag, "Cache-Control": cache}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(content=asset.body, media_type=asset.content_type, headers=headers)


async def shell(request: Request) -> Response:
    # the shell is small and names the assets; revalidate it every time
    return _respond(request, ASSETS["index.html"], "no-cache")


for _route in SPA_ROUTES:
    router.add_api_route(_route, shell, methods=["GET", "HEAD"], name=f"portal:{_route}")


@router.api_route(ASSET_PREFIX + "{name:path}", methods=["GET", "HEAD"])
async def asset(name: str, request: Request) -> Response:
    found = ASSETS.get(name)
    if found is None or name == "index.html":
        raise NotFound(f"the portal has no file {name!r}")
    return _respond(request, found, "no-cache")
