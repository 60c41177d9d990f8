"""FastAPI dependencies of the licensing routers."""

from __future__ import annotations

from typing import cast

from fastapi import Request

from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.services import UowFactory
from egov_licensing.service_layer.unit_of_work import LicensingUnitOfWork
from meshkit.service import runtime_of


def context(request: Request) -> LicensingContext:
    ctx: LicensingContext = request.app.state.licensing
    return ctx


def uows(request: Request) -> UowFactory:
    factory = runtime_of(request).uow_factory

    def make() -> LicensingUnitOfWork:
        return cast(LicensingUnitOfWork, factory())

    return make
