"""Service layer of proactive offers: make them from events, list, accept, decline."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import structlog

from egov_gateway.register.domain.proactive import ProactiveRule
from egov_gateway.register.proactive_rules import seed_proactive_rules
from egov_gateway.singlewindow.applications.service_layer import views
from egov_gateway.singlewindow.notifications.domain import model as notes
from egov_gateway.singlewindow.notifications.service_layer.service import notify
from egov_gateway.singlewindow.offers.adapters.repository import OfferRepository
from egov_gateway.singlewindow.offers.domain.model import Offer
from meshkit.contracts.gateway import OfferMade
from meshkit.errors import NotFound
from meshkit.events import TypedEvent
from meshkit.messaging.uow import UnitOfWork
from meshkit.service import ServiceRuntime

log = structlog.get_logger("gateway.offers")

OPEN_STATUSES = ("offered",)


def utcnow() -> datetime:
    return datetime.now(UTC)


@cache
def _rules_by_event() -> Mapping[str, tuple[ProactiveRule, ...]]:
    out: dict[str, list[ProactiveRule]] = {}
    for rule in seed_proactive_rules():
        out.setdefault(rule.event_type, []).append(rule)
    return {k: tuple(v) for k, v in out.items()}


def rules_for(event_type: str) -> tuple[ProactiveRule, ...]:
    return _rules_by_event().get(event_type, ())


def all_rules() -> list[ProactiveRule]:
    return [r for rules in _rules_by_event().values() for r in rules]


async def make_offers(
    uow: UnitOfWork,
    event: TypedEvent[Any],
    rules: tuple[ProactiveRule, ...] | None = None,
    now: datetime | None = None,
) -> list[Offer]:
    """Inside the consumer's unit of work: one offer per rule and recipient who has not
    applied already; each with its OfferMade event and a notification. A redelivered event
    finds its offers (unique per event, rule and citizen) and makes none."""
    now = now or utcnow()
    repo = OfferRepository(uow.session)
    data = event.data.model_dump(mode="json")
    made: list[Offer] = []
    correlated = event.correlation_id
    for rule in rules if rules is not None else rules_for(event.envelope.type):
        applicant = (
            await views.applicant_of(uow.session, correlated) if rule.needs_applicant() else None
        )
        recipients = rule.recipients_of(data, applicant)
        since = now - timedelta(days=rule.valid_days)
        pending: list[str] = []
        skip_rule = False
        for iin in recipients:
            if await repo.exists(event.id, rule.code, iin):
                continue
            if await views.has_applied(
                uow.session,
                iin,
                rule.unless_applied,
                since=since,
                correlated_application=correlated,
            ):
                if rule.exclusive:  # one allowance per event: somebody already has it
                    skip_rule = True
                    break
                continue
            pending.append(iin)
        if skip_rule:
            continue
        for iin in pending:
            offer = Offer(
                id=str(uuid.uuid4()),
                citizen_iin=iin,
                service_code=rule.service_code,
                rule_code=rule.code,
                trigger_event_id=event.id,
                trigger_event_type=event.envelope.type,
                payload=rule.prefill(data, iin),
                title={"kk": rule.title.kk, "ru": rule.title.ru, "en": rule.title.en},
                citizen_supplies=list(rule.citizen_supplies),
                exclusive=rule.exclusive,
                created_at=now,
                expires_at=now + timedelta(days=rule.valid_days),
            )
            await repo.add(offer)
            uow.emit(
                OfferMade(
                    offer_id=offer.id,
                    service_code=offer.service_code,
                    citizen_iin=iin,
                    trigger_event_id=event.id,
                    expires_at=offer.expires_at,
                ),
                subject=iin,
                causation_id=event.id,
            )
            draft = notes.offer_made(iin, offer.id, offer.title, offer.expires_at)
            if not rule.important:
                draft = replace(draft, important=False)
            await notify(uow, draft, source_event_id=f"offer:{offer.id}", now=now)
            made.append(offer)
    if made:
        log.info("offers.made", event_type=event.envelope.type, count=len(made))
    return made


async def withdraw_for_application(
    uow: UnitOfWork, application_id: str, service_code: str, applicant_iin: str
) -> list[Offer]:
    """The citizen applied by themselves (catalogue, not the offer) for a service they were
    offered, with the same data: the offer has served its purpose — withdraw it, and its
    alternatives when the rule is exclusive (one allowance per child, whoever applies)."""
    repo = OfferRepository(uow.session)
    offers = await repo.open_for(applicant_iin, service_code)
    if not offers:
        return []
    payload = await views.payload_of(uow.session, application_id) or {}
    now = utcnow()
    withdrawn: list[Offer] = []
    for offer in offers:
        if any(k in payload and payload[k] != v for k, v in offer.payload.items()):
            continue  # the same service for something else (another child)
        targets = [offer, *(await repo.alternatives(offer) if offer.exclusive else [])]
        for o in targets:
            if o.withdraw(now):
                await repo.save(o)
                withdrawn.append(o)
    return withdrawn


async def my_offers(
    uow: UnitOfWork, iin: str, *, only_open: bool, limit: int, offset: int
) -> tuple[list[Offer], int]:
    async with uow:
        repo = OfferRepository(uow.session)
        await repo.expire_due(iin, utcnow())  # offers past their term read as expired
        page = await repo.page(
            iin, statuses=OPEN_STATUSES if only_open else None, limit=limit, offset=offset
        )
        await uow.commit()
        return page


async def _load_own(repo: OfferRepository, iin: str, offer_id: str) -> Offer:
    offer = await repo.get(offer_id, for_update=True)
    if offer is None or offer.citizen_iin != iin:  # never reveal another person's offer
        raise NotFound(f"you have no offer {offer_id}")
    return offer


async def decline_offer(uow: UnitOfWork, iin: str, offer_id: str) -> Offer:
    now = utcnow()
    async with uow:
        repo = OfferRepository(uow.session)
        offer = await _load_own(repo, iin, offer_id)
        if offer.expire_if_due(now):
            await repo.save(offer)
            await uow.commit()
        offer.decline(now)  # raises OfferExpired / OfferClosed
        await repo.save(offer)
        await uow.commit()
        return offer


async def accept_offer(
    runtime: ServiceRuntime, iin: str, offer_id: str, supplied: dict[str, Any]
) -> tuple[Offer, Any]:
    """Claim the offer, run the offered service through the single window with the data the
    state holds (plus what the citizen supplies), and link the application to the offer.

    The claim commits first so a double click cannot apply twice; if the application is
    refused before it exists (e.g. a field the citizen must supply is missing) the offer opens
    again.
    """
    from egov_gateway.singlewindow.applications.service_layer.service import submit_application

    now = utcnow()
    async with runtime.uow_factory() as uow:
        repo = OfferRepository(uow.session)
        offer = await _load_own(repo, iin, offer_id)
        if offer.expire_if_due(now):
            await repo.save(offer)
            await uow.commit()
        offer.accept(now)
        await repo.save(offer)
        await uow.commit()
    try:
        view = await submit_application(
            runtime, iin, offer.service_code, offer.merged_payload(supplied), origin="offer"
        )
    except Exception:
        async with runtime.uow_factory() as uow:
            repo = OfferRepository(uow.session)
            again = await repo.get(offer_id, for_update=True)
            if again is not None and again.status == "accepted" and again.application_id is None:
                again.reopen()
                await repo.save(again)
                await uow.commit()
        raise
    application_id = _id_of(view)
    async with runtime.uow_factory() as uow:
        repo = OfferRepository(uow.session)
        stored = await repo.get(offer_id, for_update=True)
        assert stored is not None
        stored.application_id = application_id
        await repo.save(stored)
        if stored.exclusive:
            for other in await repo.alternatives(stored):
                if other.withdraw(now):
                    await repo.save(other)
        await uow.commit()
    return stored, view


def _id_of(view: Any) -> str | None:
    value = view.get("id") if isinstance(view, Mapping) else getattr(view, "id", None)
    return str(value) if value is not None else None
