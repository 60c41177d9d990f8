"""Events that feed the citizens' inbox (one handler per message type)."""

from __future__ import annotations

from typing import Any

from egov_gateway.register.adapters.repository import RegisterRepository
from egov_gateway.singlewindow.notifications.domain import model
from egov_gateway.singlewindow.notifications.service_layer.service import notify
from meshkit.contracts.gateway import ApplicationOverdue as TermBreached
from meshkit.contracts.gateway import ApplicationStatusChanged
from meshkit.contracts.licensing import ApplicationDecided, ApplicationOverdue
from meshkit.contracts.payments import InvoiceIssued, InvoicePaid, PayoutCompleted
from meshkit.events import TypedEvent
from meshkit.messaging import HandlerRegistry, UnitOfWork
from meshkit.reference import licence_catalogue

notification_handlers = HandlerRegistry()


async def _service_name(uow: UnitOfWork, code: str) -> model.Text3:
    """The service's name in the three languages, as the register has it."""
    found = await RegisterRepository(uow.session).service(code)
    if found is None:
        return model.A_SERVICE
    return model.text3(found.name.kk, found.name.ru, found.name.en)


@notification_handlers.on(ApplicationStatusChanged)
async def on_application_status(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: ApplicationStatusChanged = event.data
    name = await _service_name(uow, d.service_code)
    draft = model.application_status(d.applicant_iin, d.application_id, name, d.status)
    await notify(uow, draft, source_event_id=event.id)


@notification_handlers.on(TermBreached)
async def on_term_breached(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: TermBreached = event.data
    name = await _service_name(uow, d.service_code)
    draft = model.application_status(
        d.applicant_iin, d.application_id, name, "overdue", due=d.due_at
    )
    await notify(uow, draft, source_event_id=event.id)


@notification_handlers.on(InvoiceIssued)
async def on_invoice_issued(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: InvoiceIssued = event.data
    draft = model.invoice_issued(
        d.payer, d.invoice_id, d.amount_tiyn, d.due_date.isoformat(), d.reference
    )
    await notify(uow, draft, source_event_id=event.id)


@notification_handlers.on(InvoicePaid)
async def on_invoice_paid(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: InvoicePaid = event.data
    draft = model.invoice_paid(d.payer, d.invoice_id, d.amount_tiyn, d.reference)
    await notify(uow, draft, source_event_id=event.id)


@notification_handlers.on(PayoutCompleted)
async def on_payout(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: PayoutCompleted = event.data
    draft = model.payout_completed(d.recipient_iin, d.payout_id, d.amount_tiyn, d.purpose)
    await notify(uow, draft, source_event_id=event.id)


@notification_handlers.on(ApplicationDecided)
async def on_license_decided(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: ApplicationDecided = event.data
    iin = d.applicant_iin or d.applicant
    detail = d.license_number if d.approved else d.reason
    licence = licence_name(d.license_type)
    draft = model.license_decided(iin, d.application_id, licence, d.approved, detail)
    await notify(uow, draft, source_event_id=event.id)


@notification_handlers.on(ApplicationOverdue)
async def on_license_overdue(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: ApplicationOverdue = event.data
    iin = d.applicant_iin or d.applicant
    await notify(
        uow,
        model.license_overdue(iin, d.application_id, licence_name(d.license_type)),
        source_event_id=event.id,
    )


def licence_name(code: str) -> model.Text3:
    """The licence type by its name in kk/ru/en, from licensing's catalogue (never its code)."""
    try:
        name = licence_catalogue().get(code).name
    except LookupError:
        return model.SOME_LICENCE
    return model.text3(name.kk, name.ru, name.en)
