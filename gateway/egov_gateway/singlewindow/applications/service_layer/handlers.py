"""Agency events that complete (or fail) the waiting steps of composite services."""

from __future__ import annotations

from egov_gateway.singlewindow.applications.service_layer.service import on_agency_event
from meshkit.contracts.notary import ActRegistered, ActRevoked
from meshkit.contracts.payments import (
    InvoiceCancelled,
    InvoiceExpired,
    InvoicePaid,
    PayoutCompleted,
)
from meshkit.contracts.registry import (
    BirthRegistered,
    DeathRegistered,
    LegalEntityRegistered,
    PropertyTransferred,
    PropertyTransferRejected,
)
from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()

# the ``completes_on`` events of the register's composite steps, and those that fail them
handlers.on(
    BirthRegistered,
    DeathRegistered,
    LegalEntityRegistered,
    InvoicePaid,
    InvoiceCancelled,
    InvoiceExpired,
    PayoutCompleted,
    ActRegistered,
    ActRevoked,
    PropertyTransferred,
    PropertyTransferRejected,
)(on_agency_event)
