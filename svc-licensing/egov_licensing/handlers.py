"""Event handlers of svc-licensing, registered per event type.

The consumer's inbox drops redelivered events; the use cases themselves are safe against
logically duplicate events too (a second ``invoice.paid`` changes nothing, a liquidation
heard twice finds nothing left to revoke).
"""

from __future__ import annotations

from collections.abc import Callable

from egov_licensing.service_layer import services
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.unit_of_work import LicensingUnitOfWork
from meshkit.contracts.payments import InvoicePaid
from meshkit.contracts.registry import LegalEntityStatusChanged
from meshkit.events import TypedEvent
from meshkit.messaging import HandlerRegistry


def build_handlers(context: Callable[[], LicensingContext]) -> HandlerRegistry:
    """The handlers, given where to find the use cases' context (``bootstrap.py``)."""
    handlers = HandlerRegistry()

    @handlers.on(InvoicePaid)
    async def invoice_paid(event: TypedEvent[InvoicePaid], uow: LicensingUnitOfWork) -> None:
        await services.record_payment(context(), uow, event.data)

    @handlers.on(LegalEntityStatusChanged)
    async def legal_entity_status_changed(
        event: TypedEvent[LegalEntityStatusChanged], uow: LicensingUnitOfWork
    ) -> None:
        await services.legal_entity_status_changed(context(), uow, event.data)

    return handlers
