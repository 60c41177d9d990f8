"""Event handlers of svc-notary, registered per event type."""

from __future__ import annotations

from typing import Any

from egov_notary.service_layer import services
from egov_notary.service_layer.unit_of_work import NotaryUnitOfWork
from meshkit.contracts.payments import InvoicePaid
from meshkit.contracts.registry import PropertyTransferred, PropertyTransferRejected
from meshkit.events import TypedEvent
from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()


@handlers.on(InvoicePaid)
async def on_invoice_paid(event: TypedEvent[Any], uow: NotaryUnitOfWork) -> None:
    await services.record_payment(uow, event.data)


@handlers.on(PropertyTransferred)
async def on_property_transferred(event: TypedEvent[Any], uow: NotaryUnitOfWork) -> None:
    await services.record_transfer(uow, event.data)


@handlers.on(PropertyTransferRejected)
async def on_transfer_rejected(event: TypedEvent[Any], uow: NotaryUnitOfWork) -> None:
    await services.record_transfer_rejection(uow, event.data)
