"""The gateway's JWKS: agencies verify X-Mesh-Assertion against it."""

from typing import Any

from fastapi import APIRouter, Request

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json", summary="Public keys of the gateway's assertions")
async def jwks(request: Request) -> dict[str, Any]:
    keys: dict[str, Any] = request.app.state.runtime.extras["keyring"].jwks()
    return keys
