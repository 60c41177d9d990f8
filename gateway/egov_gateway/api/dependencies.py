"""FastAPI dependencies: the gateway's components (``bootstrap.py``) and the authenticated
caller of a gateway API (not of a routed call)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from egov_gateway.bootstrap import Components, components_of
from egov_gateway.exchange.adapters.tokens import TokenVerifier
from egov_gateway.register.service_layer.register import UnifiedRegister
from meshkit.auth.jwks import TokenInvalid
from meshkit.auth.principal import Principal
from meshkit.errors import PermissionDenied, Unauthenticated


def gateway(request: Request) -> Components:
    """The running gateway's components; 503 while it starts."""
    return components_of(request.app)


Gateway = Annotated[Components, Depends(gateway)]


def register_of(request: Request) -> UnifiedRegister:
    """The running Unified Register."""
    return components_of(request.app).register


def token_verifier(request: Request) -> TokenVerifier:
    return components_of(request.app).verifier


async def authenticated(request: Request) -> Principal:
    """The caller of a gateway API; 401 without valid credentials (or of an ended session)."""
    try:
        principal = await token_verifier(request).principal(request.headers.get("authorization"))
    except TokenInvalid as exc:
        raise Unauthenticated(exc.reason) from None
    if principal is None:
        raise Unauthenticated("send a token: Authorization: Bearer <token>")
    return principal


_principal = authenticated  # (the name other gateway APIs import)


async def require_operator(request: Request) -> Principal:
    """Operators administer the gateway: grants, audit search and verification."""
    principal = await authenticated(request)
    if principal.kind != "operator":
        raise PermissionDenied("only operators of the gateway may do this")
    return principal


async def require_citizen(request: Request) -> Principal:
    principal = await authenticated(request)
    if principal.kind != "citizen":
        raise PermissionDenied("this is a citizen's own view: sign in as a citizen")
    return principal
