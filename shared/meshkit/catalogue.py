"""The event catalogue served over HTTP: every service's own AsyncAPI document at
``GET /asyncapi.json`` and, at the gateway, the whole mesh's (DESIGN §4.1, §5).

The documents are built once per set of producers (the types are registered at import and
never change in a running process) and served with a strong ETag, so caches revalidate
with ``If-None-Match`` and get a 304.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request, Response

# importing the contracts registers every event type (the echo included)
import meshkit.contracts  # noqa: F401
from meshkit.events import registry

CACHE_CONTROL = "public, max-age=300"
ASYNCAPI_MEDIA_TYPE = "application/json"


@lru_cache(maxsize=32)
def _rendered(producers: tuple[str, ...] | None, title: str) -> tuple[bytes, str]:
    doc = registry.asyncapi(title=title, producers=producers)
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def catalogue(producers: tuple[str, ...] | None = None, *, title: str = "egov-mesh events") -> Any:
    """The AsyncAPI document (parsed) of ``producers``' event types, or of every type."""
    return json.loads(_rendered(producers, title)[0])


def catalogue_response(
    request: Request, producers: tuple[str, ...] | None = None, *, title: str = "egov-mesh events"
) -> Response:
    body, etag = _rendered(producers, title)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=ASYNCAPI_MEDIA_TYPE, headers=headers)


def known_producers() -> list[str]:
    return registry.producers()


def asyncapi_router(service: str) -> APIRouter:
    """``GET /asyncapi.json``: the AsyncAPI 3 document of the events ``service`` produces."""
    router = APIRouter(tags=["events"])

    @router.get(
        "/asyncapi.json",
        summary=f"AsyncAPI 3 document of the events svc-{service} publishes",
        response_class=Response,
        responses={200: {"content": {ASYNCAPI_MEDIA_TYPE: {}}}, 304: {"description": "unchanged"}},
    )
    async def asyncapi(request: Request) -> Response:
        return catalogue_response(request, (service,), title=f"svc-{service} events")

    return router
