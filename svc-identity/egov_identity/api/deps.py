"""FastAPI dependencies of svc-identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from egov_identity.service_layer.bootstrap import EXTRA_KEY, Identity
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.errors import UpstreamUnavailable
from meshkit.service import runtime_of


def identity(request: Request) -> Identity:
    found: Identity | None = runtime_of(request).extras.get(EXTRA_KEY)
    if found is None:
        raise UpstreamUnavailable("svc-identity is still starting", retry_after_s=1)
    return found


IdentityDep = Annotated[Identity, Depends(identity)]
#: routed endpoints (through the gateway only): the verified X-Mesh-Assertion
Call = Annotated[RoutedCall, Depends(routed_call)]
