"""The composition root of svc-notary: the unit-of-work factory and the agencies it asks
through the gateway, built once at start (the dev seed is not here: ``app.py`` runs it as
``on_startup=[seed_demo_data]``). Entrypoints reach the components through ``api/deps.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from egov_notary.adapters.agencies import GatewayAgencies
from egov_notary.service_layer.unit_of_work import NotaryUnitOfWork
from egov_notary.settings import NotarySettings
from meshkit.service import ServiceRuntime


@dataclass(frozen=True)
class Components:
    settings: NotarySettings
    uows: Callable[[], NotaryUnitOfWork] = field(repr=False)
    agencies: GatewayAgencies


async def bootstrap(runtime: ServiceRuntime) -> Components:
    settings = runtime.settings
    assert isinstance(settings, NotarySettings)
    return Components(
        settings=settings,
        # the runtime's uow factory makes units of work of NotaryUnitOfWork
        uows=cast(Callable[[], NotaryUnitOfWork], runtime.uow_factory),
        agencies=GatewayAgencies(runtime.gateway_client),
    )
