"""Use cases: register legal entities (new BIN), change their status, read and search them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from egov_registry.domain.civil_status import PersonRecord
from egov_registry.domain.common import Actor, kz_today
from egov_registry.domain.legal_entities import (
    BIN_ENTITY_TYPE,
    BIN_KIND,
    FounderStake,
    LegalEntity,
    check_person,
    validate_application,
)
from egov_registry.service_layer.idempotency import fingerprint, replayed
from egov_registry.service_layer.ports import IdentityDirectory
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.contracts.identity import ConsentCategory
from meshkit.contracts.registry import LegalEntityCreate, LegalEntityStatusChange
from meshkit.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from meshkit.ids import next_bin

PURPOSE = "state registration of a legal entity: verify founders and director"
CONSENT_PURPOSE = "state registration of a legal entity: has the named person consented"
#: the consent category of identity that covers "legal entities founded or directed"
CONSENT_CATEGORY: ConsentCategory = "business"
CONSENT_MISSING = "has not consented: no valid consent to the registry (category business)"


async def _replayed_entity(
    uow: RegistryUnitOfWork, actor: Actor, key: str, request_hash: str
) -> LegalEntity | None:
    async with uow:
        bin_ = await replayed(uow, actor, "legal_entity", key, request_hash)
        return None if bin_ is None else await uow.entities.get(bin_)


async def register_legal_entity(
    uow: RegistryUnitOfWork,
    identity: IdentityDirectory,
    actor: Actor,
    cmd: LegalEntityCreate,
    idempotency_key: str | None,
) -> tuple[LegalEntity, bool]:
    founders = [FounderStake(f.id, f.share.fraction) for f in cmd.founders]
    if actor.is_citizen and actor.user not in {
        cmd.director_iin,
        *(f.id for f in founders if f.is_person),
    }:
        raise PermissionDenied(
            "you can register only a legal entity you direct or found (as an individual)"
        )
    validate_application(cmd.legal_form, founders, cmd.activity_codes)
    key = idempotency_key or uuid.uuid4().hex
    request_hash = fingerprint(cmd.model_dump(mode="json"))
    if (first := await _replayed_entity(uow, actor, key, request_hash)) is not None:
        return first, True
    if actor.is_citizen:
        await _require_consents(uow, identity, actor, cmd.director_iin, founders)

    # every individual involved must be a living person of SDB Individuals
    iins = list(dict.fromkeys([*(f.id for f in founders if f.is_person), cmd.director_iin]))
    found = await asyncio.gather(
        *(identity.person(i, purpose=PURPOSE, on_behalf_of=actor.user) for i in iins)
    )
    persons: dict[str, PersonRecord | None] = dict(zip(iins, found, strict=True))
    for i, f in enumerate(founders):
        if f.is_person:
            check_person("founder", f"founders.{i}.id", f.id, persons[f.id])
    check_person("director", "director_iin", cmd.director_iin, persons[cmd.director_iin])

    now = datetime.now(UTC)
    today = kz_today(now)
    try:
        async with uow:
            bin_ = await replayed(uow, actor, "legal_entity", key, request_hash)
            if bin_ is not None:
                first = await uow.entities.get(bin_)
                assert first is not None
                return first, True
            for i, f in enumerate(founders):
                if f.is_person:
                    continue
                parent = await uow.entities.get(f.id)
                if parent is None:
                    raise RuleViolation(
                        f"founder {f.id} is not a registered legal entity",
                        errors={f"founders.{i}.id": "not a registered legal entity"},
                    )
                if parent.status == "liquidated":
                    raise RuleViolation(
                        f"founder {f.id} is liquidated",
                        errors={f"founders.{i}.id": "is liquidated"},
                    )
            entity_type = BIN_ENTITY_TYPE[cmd.legal_form]
            allocated: list[str] = []

            def first_valid(serial: int) -> int:
                # serials whose check digit is uncomputable are skipped, never issued
                bin_value, used = next_bin(
                    today.year, today.month, entity_type, BIN_KIND, serial, today=today
                )
                allocated.append(bin_value)
                return used

            await uow.counters.allocate(f"bin:{today:%y%m}:{entity_type}:{BIN_KIND}", first_valid)
            entity = LegalEntity(
                bin=allocated[-1],
                name_kk=cmd.name_kk,
                name_ru=cmd.name_ru,
                legal_form=cmd.legal_form,
                status="active",
                director_iin=cmd.director_iin,
                founders=founders,
                address=cmd.address,
                activity_codes=list(cmd.activity_codes),
                registered_at=now,
                application_ref=cmd.application_ref,
            )
            await uow.entities.add(entity)
            await uow.idempotency.add(
                actor.scope, key, request_hash, entity.bin, now, operation="legal_entity"
            )
            uow.emit(entity.registered_event(), subject=entity.bin)
            await uow.commit()
            return entity, False
    except IntegrityError:
        if (first := await _replayed_entity(uow, actor, key, request_hash)) is not None:
            return first, True
        raise Conflict("the registration collided with a concurrent one; retry it") from None


async def _require_consents(
    uow: RegistryUnitOfWork,
    identity: IdentityDirectory,
    actor: Actor,
    director_iin: str,
    founders: list[FounderStake],
) -> None:
    """A citizen names other people (director, co-founders) only with their consent to the
    registry (identity holds consents), and founding entities only those they direct."""
    named: dict[str, str] = {}  # IIN → the first field naming it
    if director_iin != actor.user:
        named[director_iin] = "director_iin"
    for i, f in enumerate(founders):
        if f.is_person and f.id != actor.user:
            named.setdefault(f.id, f"founders.{i}.id")
    answers = await asyncio.gather(
        *(
            identity.consented(
                iin, category=CONSENT_CATEGORY, purpose=CONSENT_PURPOSE, on_behalf_of=actor.user
            )
            for iin in named
        )
    )
    refused = {
        field: CONSENT_MISSING
        for (_, field), ok in zip(named.items(), answers, strict=True)
        if not ok
    }
    # a founder that is a legal entity: only one the applicant directs
    async with uow:
        for i, f in enumerate(founders):
            if f.is_person:
                continue
            parent = await uow.entities.get(f.id)
            if parent is not None and parent.director_iin != actor.user:
                refused[f"founders.{i}.id"] = "you do not direct this legal entity"
    if refused:
        raise PermissionDenied(
            "you may name other people only with their consent, and founding entities only "
            f"those you direct ({', '.join(refused)})",
            errors=refused,
        )


async def change_status(
    uow: RegistryUnitOfWork, actor: Actor, bin_: str, cmd: LegalEntityStatusChange
) -> LegalEntity:
    """Agencies change any status; a citizen may only liquidate an entity they direct."""
    if actor.is_citizen and cmd.status != "liquidated":
        raise PermissionDenied(
            "a citizen may only liquidate an entity they direct; other changes are made by "
            "an agency"
        )
    today = kz_today(datetime.now(UTC))
    effective = cmd.effective_date or today
    if effective > today:
        raise RuleViolation(
            "a status change takes effect today or earlier",
            errors={"effective_date": "in the future"},
        )
    async with uow:
        entity = await uow.entities.get(bin_, for_update=True)
        if entity is None:
            raise NotFound(f"there is no legal entity {bin_}")
        if actor.is_citizen and actor.user != entity.director_iin:
            raise PermissionDenied("a citizen may only liquidate an entity they direct")
        event = entity.change_status(cmd.status, cmd.reason, effective)
        await uow.entities.save_status(entity, actor.scope)
        uow.emit(event, subject=entity.bin)
        await uow.commit()
    return entity


async def legal_entity(uow: RegistryUnitOfWork, bin_: str) -> LegalEntity:
    """The register of legal entities is public information: any routed caller may read."""
    async with uow:
        entity = await uow.entities.get(bin_)
    if entity is None:
        raise NotFound(f"there is no legal entity {bin_}")
    return entity


async def search(
    uow: RegistryUnitOfWork, q: str, *, limit: int, offset: int
) -> tuple[list[LegalEntity], int]:
    async with uow:
        return await uow.entities.search(q, limit=limit, offset=offset)
