"""Event handlers of svc-payments, registered per event type."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog

from egov_payments.domain.kbk import STATE_DUTY_LEGAL_ENTITY_REGISTRATION
from egov_payments.service_layer import services
from egov_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from egov_payments.settings import PaymentsSettings
from meshkit.clock import BusinessClock
from meshkit.contracts.payments import InvoiceCreate
from meshkit.contracts.registry import LegalEntityRegistered
from meshkit.events import TypedEvent
from meshkit.ids import is_valid_iin
from meshkit.messaging import HandlerRegistry
from meshkit.reference import mrp_tiyn

log = structlog.get_logger("payments.handlers")

STATE_DUTY_SCOPE = "event:registry.legal_entity.registered"
#: the state duty for registering a legal entity, in quarters of an MRP: 6.5 MRP for an LLP or
#: a JSC; a sole proprietor registers without duty (the register's fee says the same)
LEGAL_ENTITY_DUTY_QUARTER_MRP: dict[str, int] = {"LLP": 26, "JSC": 26, "SOLE_PROPRIETOR": 0}


def legal_entity_duty_tiyn(legal_form: str, on: date) -> int:
    """The duty in tiyn on a day: the law's multiple of :func:`meshkit.reference.mrp_tiyn`."""
    return LEGAL_ENTITY_DUTY_QUARTER_MRP.get(legal_form, 0) * mrp_tiyn(on) // 4


def make_handlers(settings: PaymentsSettings) -> HandlerRegistry:
    handlers = HandlerRegistry()
    clock = BusinessClock(settings.business_utc_offset_hours)

    @handlers.on(LegalEntityRegistered)
    async def issue_state_duty(event: TypedEvent[LegalEntityRegistered], uow: Any) -> None:
        """A new legal entity owes the state duty for its registration.

        Payer: the entity (its BIN) — the duty is the entity's obligation; its director may
        see and pay it (``payer_representative_iin``). Reference: the registration
        application's reference, else the BIN. One invoice per BIN however often the event
        (or a logically equal one) arrives.
        """
        assert isinstance(uow, PaymentsUnitOfWork)
        e = event.data
        override = settings.legal_entity_duty_tiyn
        amount = (
            override.get(e.legal_form, 0)
            if override is not None
            else legal_entity_duty_tiyn(e.legal_form, clock.today())
        )
        if amount <= 0:
            log.info("state_duty.not_due", bin=e.bin, legal_form=e.legal_form)
            return
        if await uow.idempotency.get(STATE_DUTY_SCOPE, e.bin) is not None:
            log.info("state_duty.already_issued", bin=e.bin)
            return
        data = InvoiceCreate(
            payer=e.bin,
            amount_tiyn=amount,
            purpose=f"State duty: registration of {e.legal_form} «{e.name_ru}»"[:300],
            kbk=STATE_DUTY_LEGAL_ENTITY_REGISTRATION,
            beneficiary_agency="registry",
            due_date=services.due_in(clock, settings.legal_entity_duty_days),
            reference=(e.application_ref or e.bin)[:100],
            payer_representative_iin=e.director_iin if is_valid_iin(e.director_iin) else None,
        )
        inv = await services.add_invoice(uow, data, clock)
        await uow.idempotency.add(
            STATE_DUTY_SCOPE, e.bin, services.request_hash(data), inv.id, clock.now()
        )

    return handlers


handlers = make_handlers(PaymentsSettings(kafka_enabled=False))
