"""FastAPI dependencies shared by the registry's routers."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from egov_registry.bootstrap import Components as RegistryComponents
from egov_registry.domain.common import Actor
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.service import components_dependency, uow_dependency


def registry_uow(request: Request) -> RegistryUnitOfWork:
    return cast(RegistryUnitOfWork, uow_dependency(request))


def routed_actor(call: Annotated[RoutedCall, Depends(routed_call)]) -> Actor:
    return Actor(client=call.client, user=call.user)


Uow = Annotated[RegistryUnitOfWork, Depends(registry_uow)]
Caller = Annotated[Actor, Depends(routed_actor)]
Components = Annotated[RegistryComponents, Depends(components_dependency(RegistryComponents))]
