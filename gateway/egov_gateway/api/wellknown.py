"""The gateway's JWKS: agencies verify X-Mesh-Assertion against it."""

from typing import Any

from fastapi import APIRouter, Request

from egov_gateway.bootstrap import components_of

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json", summary="Public keys of the gateway's assertions")
async def jwks(request: Request) -> dict[str, Any]:
    return components_of(request.app).keyring.jwks()
