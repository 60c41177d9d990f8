"""FastAPI dependencies of the licensing routers: the components of ``bootstrap.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from egov_licensing.bootstrap import Components
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.services import UowFactory
from meshkit.service import components_dependency

LicensingComponents = Annotated[Components, Depends(components_dependency(Components))]


def context(components: LicensingComponents) -> LicensingContext:
    return components.context


def uows(components: LicensingComponents) -> UowFactory:
    return components.uows
