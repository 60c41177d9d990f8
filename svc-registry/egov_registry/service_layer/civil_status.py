"""Use cases: register and read births and deaths."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from egov_registry.domain.civil_status import (
    NOT_A_DECLARANT,
    BirthAct,
    DeathAct,
    DeathNotice,
    PersonRecord,
    check_death,
    check_notice_date,
    check_parents,
)
from egov_registry.domain.common import Actor, act_number, kz_today
from egov_registry.service_layer.idempotency import derived_key, fingerprint, replayed
from egov_registry.service_layer.ports import IdentityDirectory
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.contracts.identity import ConsentCategory, PersonCreate
from meshkit.contracts.registry import BirthCreate, DeathCreate, DeathNoticeCreate
from meshkit.errors import Conflict, NotFound, PermissionDenied, RuleViolation

BIRTH_PURPOSE = "civil registration of a birth: verify the parents"
DEATH_PURPOSE = "civil registration of a death: verify the person"
DECLARANT_PURPOSE = "civil registration of a death: is the declarant a parent or child"
READER_PURPOSE = "death act: is the reader a parent or child of the deceased"
MOTHER_CONSENT_PURPOSE = "civil registration of a birth: has the mother consented"
#: the refusal of a birth declared by a citizen who is neither the mother nor the father
NOT_A_PARENT = "you can register the birth only of your own child"
#: identity's consent category that covers a person's parents and children
MOTHER_CONSENT_CATEGORY: ConsentCategory = "family"
#: the refusal of a birth a father declares without the mother's consent
MOTHER_NOT_CONSENTED = (
    "the mother has not consented to this registration: she can register the birth herself, "
    "or give the registry her consent (category family)"
)
MOTHER_CONSENT_MISSING = "has not consented: no valid consent to the registry (category family)"


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

    An agency registers any birth. A citizen declares only as the mother, or as the father
    with the mother's consent to the registry (identity, category family): a man cannot
    attach a child to a stranger's record by naming her as the mother.

    No transaction is held open while identity is called (SQLite would hold its write lock);
    a retry is safe because identity gets a key derived from ours, so it never creates two
    children, and our key → act row is written with the act.
    """
    if actor.is_citizen and actor.user not in {cmd.mother_iin, cmd.father_iin}:
        raise PermissionDenied(NOT_A_PARENT)
    key = idempotency_key or uuid.uuid4().hex
    request_hash = fingerprint(cmd.model_dump(mode="json"))
    if (first := await _replayed_birth(uow, actor, key, request_hash)) is not None:
        return first, True
    if actor.is_citizen and actor.user != cmd.mother_iin:
        await _require_mothers_consent(identity, actor, cmd.mother_iin)

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
                    actor.scope, key, request_hash, existing.act_number, now, operation="birth"
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
            await uow.idempotency.add(
                actor.scope, key, request_hash, act.act_number, now, operation="birth"
            )
            uow.emit(act.registered_event(), subject=act.child_iin)
            await uow.commit()
            return act, False
    except IntegrityError:
        # a concurrent request with the same key won the race: answer with its act
        if (first := await _replayed_birth(uow, actor, key, request_hash)) is not None:
            return first, True
        raise Conflict("this birth was registered by a concurrent request") from None


async def _require_mothers_consent(
    identity: IdentityDirectory, actor: Actor, mother_iin: str
) -> None:
    """The father declares a birth only with the mother's consent (identity holds consents);
    the mother's record is not even read without it."""
    consented = await identity.consented(
        mother_iin,
        category=MOTHER_CONSENT_CATEGORY,
        purpose=MOTHER_CONSENT_PURPOSE,
        on_behalf_of=actor.user,
    )
    if not consented:
        raise PermissionDenied(MOTHER_NOT_CONSENTED, errors={"mother_iin": MOTHER_CONSENT_MISSING})


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
    """Register a death. An agency may register any death; a citizen only a death of their
    parent or child (per identity), or one a medical death notice on file certifies."""
    key = idempotency_key or uuid.uuid4().hex
    request_hash = fingerprint(cmd.model_dump(mode="json"))
    if (first := await _replayed_death(uow, actor, key, request_hash)) is not None:
        return first, True
    if actor.is_citizen:
        await _require_declarant(uow, identity, actor, cmd)
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
            notice = await uow.death_notices.open_for(cmd.iin)
            if notice is not None and actor.is_citizen:
                check_notice_date(notice, cmd.date_of_death)
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
                declarant_iin=actor.user if actor.is_citizen else None,
                death_notice_id=notice.id if notice else None,
            )
            await uow.deaths.add(act)
            if notice is not None:  # the act it led to consumes the medical notice
                await uow.death_notices.consume(notice, act.act_number, now)
            await uow.idempotency.add(
                actor.scope, key, request_hash, act.act_number, now, operation="death"
            )
            uow.emit(act.registered_event(), subject=act.iin)
            await uow.commit()
            return act, False
    except IntegrityError:
        if (first := await _replayed_death(uow, actor, key, request_hash)) is not None:
            return first, True
        raise Conflict(f"the death of {cmd.iin} was registered by a concurrent request") from None


async def _require_declarant(
    uow: RegistryUnitOfWork, identity: IdentityDirectory, actor: Actor, cmd: DeathCreate
) -> None:
    """A citizen declares a death with a medical death notice on file, or as a parent or
    child of the deceased (identity, the owner of family links, decides)."""
    async with uow:
        notice = await uow.death_notices.open_for(cmd.iin)
    if notice is not None:
        check_notice_date(notice, cmd.date_of_death)
        return
    if actor.user == cmd.iin:
        raise PermissionDenied(NOT_A_DECLARANT)
    family = await identity.family(cmd.iin, purpose=DECLARANT_PURPOSE, on_behalf_of=actor.user)
    if family is None or not family.is_parent_or_child(actor.user):
        raise PermissionDenied(NOT_A_DECLARANT)


async def death_act(
    uow: RegistryUnitOfWork, identity: IdentityDirectory, actor: Actor, number: str
) -> DeathAct:
    """Agencies; the citizen who declared it; a parent or child of the deceased."""
    async with uow:
        act = await uow.deaths.get(number)
    if act is None:
        raise NotFound(f"there is no death act {number}")
    if act.readable_without_family(actor):
        return act
    family = await identity.family(act.iin, purpose=READER_PURPOSE, on_behalf_of=actor.user)
    if family is None or not family.is_parent_or_child(actor.user):
        raise PermissionDenied(
            "a citizen may only read a death act they declared or of their parent or child"
        )
    return act


async def deaths_of(uow: RegistryUnitOfWork, actor: Actor, iin: str) -> list[DeathAct]:
    """``GET /deaths?iin=``: the death acts of a person (agencies; empty when none)."""
    actor.require_agency("list the death acts of a person")
    async with uow:
        act = await uow.deaths.of_person(iin)
    return [] if act is None else [act]


async def file_death_notice(
    uow: RegistryUnitOfWork, actor: Actor, cmd: DeathNoticeCreate, idempotency_key: str | None
) -> tuple[DeathNotice, bool]:
    """An agency files a medical death notice (one open notice per person)."""
    actor.require_agency("file a medical death notice")
    now = datetime.now(UTC)
    if cmd.date_of_death > kz_today(now):
        raise RuleViolation(
            "a date of death cannot be in the future", errors={"date_of_death": "in the future"}
        )
    key = idempotency_key or uuid.uuid4().hex
    request_hash = fingerprint(cmd.model_dump(mode="json"))
    try:
        async with uow:
            notice_id = await replayed(uow, actor, "death_notice", key, request_hash)
            if notice_id is not None:
                first = await uow.death_notices.get(notice_id)
                assert first is not None
                return first, True
            act = await uow.deaths.of_person(cmd.iin)
            if act is not None:
                raise Conflict(
                    f"the death of {cmd.iin} is already registered (act {act.act_number})"
                )
            open_notice = await uow.death_notices.open_for(cmd.iin)
            if open_notice is not None:
                raise Conflict(
                    f"a medical death notice for {cmd.iin} is already on file ({open_notice.id})"
                )
            notice = DeathNotice(
                id=str(uuid.uuid4()),
                iin=cmd.iin,
                date_of_death=cmd.date_of_death,
                place=cmd.place,
                issued_by=cmd.issued_by,
                cause=cmd.cause,
                filed_at=now,
                filed_by=actor.client,
            )
            await uow.death_notices.add(notice)
            await uow.idempotency.add(
                actor.scope, key, request_hash, notice.id, now, operation="death_notice"
            )
            await uow.commit()
            return notice, False
    except IntegrityError:
        async with uow:  # a concurrent request with the same key won: answer with its notice
            notice_id = await replayed(uow, actor, "death_notice", key, request_hash)
            first = await uow.death_notices.get(notice_id) if notice_id else None
        if first is not None:
            return first, True
        raise Conflict(
            f"a medical death notice for {cmd.iin} was filed by a concurrent request"
        ) from None


async def death_notice(uow: RegistryUnitOfWork, actor: Actor, notice_id: str) -> DeathNotice:
    actor.require_agency("read medical death notices")
    async with uow:
        notice = await uow.death_notices.get(notice_id)
    if notice is None:
        raise NotFound(f"there is no medical death notice {notice_id}")
    return notice
