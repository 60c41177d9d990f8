"""Event handlers of svc-registry, registered per event type."""

from __future__ import annotations

from typing import Any

from egov_registry.service_layer.real_estate import apply_sale
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.contracts.notary import ActRegistered
from meshkit.events import TypedEvent
from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()


@handlers.on(ActRegistered)
async def on_notarial_act_registered(event: TypedEvent[Any], uow: RegistryUnitOfWork) -> None:
    """A registered property sale transfers ownership (or is rejected, with the reason)."""
    data: ActRegistered = event.data
    await apply_sale(uow, data)
