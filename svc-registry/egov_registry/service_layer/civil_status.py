"""Use cases: register and read births and deaths."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from egov_registry.domain.civil_status import (
    BirthAct,
    DeathAct,
    PersonRecord,
    check_death,
    check_parents,
)
from egov_registry.domain.common import Actor, act_number, kz_today
from egov_registry.service_layer.idempotency import derived_key, fingerprint, replayed
from egov_registry.service_layer.ports import IdentityDirectory
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.contracts.identity import PersonCreate
from meshkit.contracts.registry import BirthCreate, DeathCreate
from meshkit.errors import Conflict, NotFound, PermissionDenied

BIRTH_PURPOSE = "civil registration of a birth: verify the parents"
DEATH_PURPOSE = "civil registration of a death: verify the person"


async def _none() -> None:
    return None


async def _replayed_birth(
    uow: RegistryUnitOfWork, actor: Actor, key: str, request_hash: str
) -> BirthAct | None:
    async with uow:
        number = await replayed(uow, actor, "birth", key, request_hash)
        return None if number is None else await uow.births.get(number)


async def register_birth(
    uow: RegistryUnitOfWork,
    identity: IdentityDirectory,
    actor: Actor,
    cmd: BirthCreate,
    idempotency_key: str | None,
) -> tuple[BirthAct, bool]:
    """Register a birth; identity creates the child. Returns (act, replayed).

    No transaction is held open while identity is called (SQLite would hold its write lock);
    a retry is safe because identity gets a key derived from ours, so it never creates two
    children, and our key → act row is written with the act.
    """
    actor.require_citizen_is(
        (cmd.mother_iin, cmd.father_iin), "register the birth of their own child"
    )
    key = idempotency_key or uuid.uuid4().hex
    request_hash = fingerprint(cmd.model_dump(mode="json"))
    if (first := await _replayed_birth(uow, actor, key, request_hash)) is not None:
        return first, True

    now = datetime.now(UTC)
    mother, father = await asyncio.gather(
        identity.person(cmd.mother_iin, purpose=BIRTH_PURPOSE, on_behalf_of=actor.user),
        identity.person(cmd.father_iin, purpose=BIRTH_PURPOSE, on_behalf_of=actor.user)
        if cmd.father_iin
        else _none(),
    )
    check_parents(
        birth_date=cmd.birth_date,
        mother_iin=cmd.mother_iin,
        mother=mother,
        father_iin=cmd.father_iin,
        father=father,
        today=kz_today(now),
    )
    assert mother is not None
    child = await identity.register_child(
        PersonCreate(
            surname=cmd.surname,
            given_name=cmd.given_name,
            patronymic=cmd.patronymic,
            birth_date=cmd.birth_date,
            sex=cmd.sex,
            birth_place=cmd.place,
            # once-only: a newborn lives at the mother's registered address
            address=mother.address,
            mother_iin=cmd.mother_iin,
            father_iin=cmd.father_iin,
        ),
        idempotency_key=derived_key("birth", actor, key),
        on_behalf_of=actor.user,
    )
    try:
        async with uow:
            number = await replayed(uow, actor, "birth", key, request_hash)
            if number is not None:
                first = await uow.births.get(number)
                assert first is not None
                return first, True
            existing = await uow.births.by_child(child.iin)
            if existing is not None:  # identity already knew this child: the same birth
                await uow.idempotency.add(
                    actor.scope, "birth", key, request_hash, existing.act_number
                )
                await uow.commit()
                return existing, True
            year = kz_today(now).year
            seq = await uow.counters.allocate(f"birth-act:{year}")
            act = BirthAct(
                act_number=act_number("B", year, seq),
                child_iin=child.iin,
                surname=cmd.surname,
                given_name=cmd.given_name,
                patronymic=cmd.patronymic,
                birth_date=cmd.birth_date,
                sex=cmd.sex,
                place=cmd.place,
                mother_iin=cmd.mother_iin,
                father_iin=cmd.father_iin,
                registered_at=now,
                registered_by=actor.scope,
            )
            await uow.births.add(act)
            await uow.idempotency.add(actor.scope, "birth", key, request_hash, act.act_number)
            uow.emit(act.registered_event(), subject=act.child_iin)
            await uow.commit()
            return act, False
    except IntegrityError:
        # a concurrent request with the same key won the race: answer with its act
        if (first := await _replayed_birth(uow, actor, key, request_hash)) is not None:
            return first, True
        raise Conflict("this birth was registered by a concurrent request") from None


async def birth_act(uow: RegistryUnitOfWork, actor: Actor, number: str) -> BirthAct:
    async with uow:
        act = await uow.births.get(number)
    if act is None:
        raise NotFound(f"there is no birth act {number}")
    if not act.readable_by(actor):
        raise PermissionDenied(
            "a citizen may only read the birth acts of themselves or their child"
        )
    return act


async def _replayed_death(
    uow: RegistryUnitOfWork, actor: Actor, key: str, request_hash: str
) -> DeathAct | None:
    async with uow:
        number = await replayed(uow, actor, "death", key, request_hash)
        return None if number is None else await uow.deaths.get(number)


async def register_death(
    uow: RegistryUnitOfWork,
    identity: IdentityDirectory,
    actor: Actor,
    cmd: DeathCreate,
    idempotency_key: str | None,
) -> tuple[DeathAct, bool]:
    actor.require_agency("register a death")
    key = idempotency_key or uuid.uuid4().hex
    request_hash = fingerprint(cmd.model_dump(mode="json"))
    if (first := await _replayed_death(uow, actor, key, request_hash)) is not None:
        return first, True
    person: PersonRecord | None = await identity.person(
        cmd.iin, purpose=DEATH_PURPOSE, on_behalf_of=actor.user
    )
    now = datetime.now(UTC)
    try:
        async with uow:
            number = await replayed(uow, actor, "death", key, request_hash)
            if number is not None:
                first = await uow.deaths.get(number)
                assert first is not None
                return first, True
            existing = await uow.deaths.of_person(cmd.iin)
            check_death(
                iin=cmd.iin,
                person=person,
                date_of_death=cmd.date_of_death,
                today=kz_today(now),
                existing_act=existing.act_number if existing else None,
            )
            year = kz_today(now).year
            seq = await uow.counters.allocate(f"death-act:{year}")
            act = DeathAct(
                act_number=act_number("D", year, seq),
                iin=cmd.iin,
                date_of_death=cmd.date_of_death,
                place=cmd.place,
                cause=cmd.cause,
                registered_at=now,
                registered_by=actor.scope,
            )
            await uow.deaths.add(act)
            await uow.idempotency.add(actor.scope, "death", key, request_hash, act.act_number)
            uow.emit(act.registered_event(), subject=act.iin)
            await uow.commit()
            return act, False
    except IntegrityError:
        if (first := await _replayed_death(uow, actor, key, request_hash)) is not None:
            return first, True
        raise Conflict(f"the death of {cmd.iin} was registered by a concurrent request") from None


async def death_act(uow: RegistryUnitOfWork, actor: Actor, number: str) -> DeathAct:
    async with uow:
        act = await uow.deaths.get(number)
    if act is None:
        raise NotFound(f"there is no death act {number}")
    if not act.readable_by(actor):
        raise PermissionDenied("death acts are issued to citizens through an agency")
    return act
