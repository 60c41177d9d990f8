"""``ANY /x/{agency}/{path}`` and its X-Road form ``ANY /r1/{instance}/.../{serviceCode}/{path}``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.routing import Route

from egov_gateway.bootstrap import components_of
from egov_gateway.exchange.domain.headers import METHODS, XRoadService
from egov_gateway.exchange.service_layer.exchange import RoutedExchange
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["routed exchange"])

_RESPONSES = {
    **PROBLEM_RESPONSES,
    413: {"description": "Request body too large"},
    429: {"description": "Rate limit exceeded (Retry-After)"},
    502: {"description": "The agency could not be reached"},
    503: {"description": "Circuit open / member suspended / audit unavailable (Retry-After)"},
    504: {"description": "The agency did not answer in time"},
}


def _exchange(request: Request) -> RoutedExchange:
    return components_of(request.app).exchange


_X_DOC = dict(
    summary="Call an agency through the gateway (authenticated, authorised, audited)",
    description="`{path}` is the agency's own path. Send `Authorization: Bearer <token>` "
    "(citizen or agency), `X-Mesh-Purpose` (legal basis; required for agency access to a data "
    "subject) and `X-Mesh-User` (on whose behalf). The agency receives `X-Mesh-Assertion`.",
    responses=_RESPONSES,
)


async def routed(agency: str, path: str, request: Request) -> Response:
    return await _exchange(request).route(request, agency, prefix_segments=2)


_R1_DOC = dict(
    summary="The same routed exchange addressed X-Road style (X-Road-* headers in and out)",
    description="Request headers: `X-Road-Client` (KZ/GOV/<BIN>/<subsystem>, must be the "
    "authenticated agency), `X-Road-Id`, `X-Road-UserId`. Response headers: `X-Road-Id`, "
    "`X-Road-Client`, `X-Road-Service`, `X-Road-Request-Hash` (base64 SHA-256 of the request "
    "body), `X-Road-Error` on errors.",
    responses=_RESPONSES,
)


async def routed_xroad(
    instance: str,
    member_class: str,
    member_code: str,
    subsystem: str,
    service_code: str,
    path: str,
    request: Request,
) -> Response:
    service = XRoadService(instance, member_class, member_code, subsystem, service_code)
    return await _exchange(request).route_xroad(request, service)


async def _fast_routed(request: Request) -> Response:
    return await _exchange(request).route(request, request.path_params["agency"], prefix_segments=2)


async def _fast_routed_xroad(request: Request) -> Response:
    p = request.path_params
    service = XRoadService(
        p["instance"], p["member_class"], p["member_code"], p["subsystem"], p["service_code"]
    )
    return await _exchange(request).route_xroad(request, service)


# The hot path is a plain Starlette route (no dependency solving, one match for all methods),
# served as a fast lane in front of FastAPI's stack (meshkit.fastlane), tracing on or off; the
# FastAPI routes below it are never reached and only document the exchange in OpenAPI.
fast_routes = [
    Route("/x/{agency}/{path:path}", _fast_routed, methods=METHODS, include_in_schema=False),
    Route(
        "/r1/{instance}/{member_class}/{member_code}/{subsystem}/{service_code}/{path:path}",
        _fast_routed_xroad,
        methods=METHODS,
        include_in_schema=False,
    ),
]
router.routes.extend(fast_routes)

# one documented route per method, so every operation has its own OpenAPI operationId
for _method in METHODS:
    router.add_api_route(
        "/x/{agency}/{path:path}",
        routed,
        methods=[_method],
        operation_id=f"routed_{_method.lower()}",
        **_X_DOC,  # type: ignore[arg-type]
    )
    router.add_api_route(
        "/r1/{instance}/{member_class}/{member_code}/{subsystem}/{service_code}/{path:path}",
        routed_xroad,
        methods=[_method],
        operation_id=f"routed_xroad_{_method.lower()}",
        **_R1_DOC,  # type: ignore[arg-type]
    )
