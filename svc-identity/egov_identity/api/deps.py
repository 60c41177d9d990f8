"""FastAPI dependencies of svc-identity: its components (``bootstrap.py``) and the routed call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from egov_identity.bootstrap import Components
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.service import components_dependency

IdentityDep = Annotated[Components, Depends(components_dependency(Components))]
#: routed endpoints (through the gateway only): the verified X-Mesh-Assertion
Call = Annotated[RoutedCall, Depends(routed_call)]
