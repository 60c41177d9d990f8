"""Life events that trigger the proactive rules of the register: one handler serves every
event type a rule names (the rules, not this module, decide what triggers an offer)."""

from __future__ import annotations

from typing import Any

import meshkit.contracts  # noqa: F401  (registers every event type the rules may name)
from egov_gateway.singlewindow.offers.service_layer.service import (
    all_rules,
    make_offers,
    withdraw_for_application,
)
from meshkit.contracts.gateway import ApplicationSubmitted
from meshkit.events import TypedEvent
from meshkit.events import registry as event_registry
from meshkit.messaging import HandlerRegistry, UnitOfWork

offer_handlers = HandlerRegistry()


async def on_life_event(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    await make_offers(uow, event)


offer_handlers.on(
    *sorted(
        {event_registry.model_for(r.event_type) for r in all_rules()}, key=lambda m: m.event_type
    )
)(on_life_event)


@offer_handlers.on(ApplicationSubmitted)
async def on_application_submitted(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: ApplicationSubmitted = event.data
    await withdraw_for_application(uow, d.application_id, d.service_code, d.applicant_iin)
