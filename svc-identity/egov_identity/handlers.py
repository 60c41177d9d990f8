"""Event handlers of svc-identity, registered per event type.

A handler runs inside the consumer's open unit of work (with the inbox row): it never opens
or commits one itself.

The inbox already drops redelivered events; the use cases are also idempotent against
logically duplicate events (a second death registration, a repeated birth record).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from egov_identity.domain.persons import PersonDetails
from egov_identity.service_layer import persons as uc
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from meshkit.contracts.registry import BirthRegistered, DeathRegistered
from meshkit.events import TypedEvent
from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()
log = structlog.get_logger("identity.handlers")


def _now() -> datetime:
    return datetime.now(UTC)


@handlers.on(BirthRegistered)
async def link_child_to_parents(event: TypedEvent[Any], uow: IdentityUnitOfWork) -> None:
    birth: BirthRegistered = event.data
    fallback = PersonDetails(
        surname=birth.surname,
        given_name=birth.given_name,
        patronymic=birth.patronymic,
        birth_date=birth.birth_date,
        sex=birth.sex,
        birth_place=birth.place,
    )
    child = await uc.apply_birth(
        uow, birth.child_iin, birth.mother_iin, birth.father_iin, _now(), fallback=fallback
    )
    log.info("birth.linked", child=child.iin, act=birth.act_number)


@handlers.on(DeathRegistered)
async def close_record_of_deceased(event: TypedEvent[Any], uow: IdentityUnitOfWork) -> None:
    death: DeathRegistered = event.data
    await uc.apply_death(uow, death.iin, death.date_of_death, death.act_number, _now())
    log.info("death.recorded", iin=death.iin, act=death.act_number)
