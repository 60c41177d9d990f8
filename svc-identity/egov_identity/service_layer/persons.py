"""Use cases of SDB Individuals: register (allocating the IIN), read, search, update, family,
death, and the citizen's view of who holds their data."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from egov_identity.domain.persons import (
    NAME_FIELDS,
    Person,
    PersonDetails,
    check_birth_date,
    check_parent,
    iin_for_serial,
)
from egov_identity.service_layer.ca import revoke_all_of
from egov_identity.service_layer.revocation import announce
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from meshkit.auth.assertion import RoutedCall
from meshkit.contracts.identity import PersonCreate
from meshkit.documents import canonical_json
from meshkit.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from meshkit.messaging.uow import UnitOfWork

#: categories of data an agency receives when it reads a person record
PERSON_RECORD_CATEGORIES = ("personal", "contacts", "family")


def _require_agency(call: RoutedCall, what: str) -> None:
    if call.is_citizen:
        raise PermissionDenied(f"citizens cannot {what}")


def _require_registrar(call: RoutedCall, registrars: list[str], what: str) -> None:
    _require_agency(call, what)
    if call.client not in registrars:
        raise PermissionDenied(
            f"{call.client} may not {what} (registrars: {', '.join(registrars)})"
        )


# -- register -----------------------------------------------------------------------------------
@dataclass
class Registration:
    person: Person
    created: bool


async def register_person(
    uow_factory: Callable[[], UnitOfWork],
    call: RoutedCall,
    body: PersonCreate,
    *,
    idempotency_key: str | None,
    registrars: list[str],
    now: datetime,
) -> Registration:
    _require_registrar(call, registrars, "register persons")
    digest = hashlib.sha256(canonical_json(body.model_dump(mode="json"))).hexdigest()
    for attempt in range(2):
        uow = uow_factory()
        assert isinstance(uow, IdentityUnitOfWork)
        try:
            return await _register(uow, call, body, idempotency_key, digest, now)
        except IntegrityError:
            # a concurrent request with the same Idempotency-Key won: answer like it did
            if attempt or not idempotency_key:
                raise
    raise AssertionError("unreachable")


async def _register(
    uow: IdentityUnitOfWork,
    call: RoutedCall,
    body: PersonCreate,
    key: str | None,
    digest: str,
    now: datetime,
) -> Registration:
    async with uow:
        if key:
            remembered = await uow.persons.remembered_request(call.client, key)
            if remembered is not None:
                if remembered[0] != digest:
                    raise Conflict(
                        "this Idempotency-Key was already used with a different request body"
                    )
                existing = await uow.persons.get(remembered[1])
                if existing is None:
                    raise NotFound(f"person {remembered[1]} no longer exists")
                return Registration(existing, created=False)
        check_birth_date(body.birth_date, now.date())
        for rel, parent_iin, sex in (
            ("mother_iin", body.mother_iin, "female"),
            ("father_iin", body.father_iin, "male"),
        ):
            if parent_iin:
                parent = await uow.persons.get(parent_iin)
                if parent is None:
                    raise RuleViolation(
                        f"{rel}: no person with IIN {parent_iin}",
                        errors={rel: "no such person"},
                    )
                check_parent(parent, body.birth_date, sex, rel)
        iin = await _allocate_iin(uow, body.birth_date, body.sex, now)
        details = PersonDetails(**body.model_dump())
        person = Person.register(iin, details, now=now)
        await uow.persons.add(person)
        if key:
            await uow.persons.remember_request(call.client, key, digest, iin, now)
        uow.publish(person.events, subject=iin)
        await uow.commit()
    return Registration(person, created=True)


async def _allocate_iin(uow: IdentityUnitOfWork, birth_date: date, sex: str, now: datetime) -> str:
    """Next serial of (birth date, sex) whose check digit is computable and not taken (serials
    taken by bulk-loaded or seeded persons are skipped)."""
    while True:
        serial = await uow.persons.next_serial(birth_date, sex)
        iin = iin_for_serial(birth_date, sex, serial, today=now.date())
        if iin is not None and not await uow.persons.exists(iin):
            return iin


# -- read -----------------------------------------------------------------------------------------
async def read_person(
    load: Callable[[str], Awaitable[Person | None]], call: RoutedCall, iin: str, today: date
) -> Person:
    """``load`` is the read model (``views.person_record``): the hot path skips the unit of
    work, reads are not changes."""
    person = await load(iin)
    if person is None:
        raise NotFound(f"no person with IIN {iin}")
    if call.is_citizen:
        own = call.user == iin
        minor_child = (
            call.user is not None
            and person.is_minor_on(today)
            and call.user
            in (
                person.mother_iin,
                person.father_iin,
            )
        )
        if not (own or minor_child):
            raise PermissionDenied(
                "a citizen may read only their own record or their minor children's"
            )
    return person


@dataclass
class Family:
    person: Person
    mother: Person | None
    father: Person | None
    children: list[Person]


async def family_of(uow: IdentityUnitOfWork, call: RoutedCall, iin: str) -> Family:
    if call.is_citizen and call.user != iin:
        raise PermissionDenied("a citizen may read only their own family links")
    async with uow:
        person = await uow.persons.get(iin)
        if person is None:
            raise NotFound(f"no person with IIN {iin}")
        parents = await uow.persons.get_many(
            [p for p in (person.mother_iin, person.father_iin) if p]
        )
        children = await uow.persons.children(iin)
    return Family(
        person,
        parents.get(person.mother_iin or ""),
        parents.get(person.father_iin or ""),
        children,
    )


# -- change ---------------------------------------------------------------------------------------
async def update_person(
    uow: IdentityUnitOfWork,
    call: RoutedCall,
    iin: str,
    changes: dict[str, Any],
    *,
    registrars: list[str],
    now: datetime,
) -> Person:
    if call.is_citizen:
        # a citizen keeps their own contact details (the single window's "change of contact
        # details"); names, and anyone else's record, change only through a registrar
        if call.user != iin:
            raise PermissionDenied("you can change only your own contact details")
        if any(name in changes for name in NAME_FIELDS):
            raise PermissionDenied(
                "a name changes with a civil-status act (ask the agency that registers it)"
            )
        if "phone" in changes:
            # the phone carries the login codes: a stolen session must not take the account
            raise PermissionDenied(
                "the phone that receives your login codes is changed at a public service centre"
            )
    elif any(name in changes for name in NAME_FIELDS):
        _require_registrar(call, registrars, "change names")
    if not changes:
        raise RuleViolation("nothing to change", errors={"body": "no field given"})
    async with uow:
        person = await uow.persons.get(iin, for_update=True)
        if person is None:
            raise NotFound(f"no person with IIN {iin}")
        if person.update(changes, now=now):
            await uow.persons.save(person)
            uow.publish(person.events, subject=iin)
            await uow.commit()
    return person


async def record_death(
    uow: IdentityUnitOfWork,
    iin: str,
    date_of_death: date,
    act_number: str | None,
    now: datetime,
) -> Person:
    """Mark deceased, revoke the person's certificates and sessions — in one transaction,
    idempotently (a repeated death registration changes nothing)."""
    async with uow:
        person = await apply_death(uow, iin, date_of_death, act_number, now)
        await uow.commit()
    return person


async def apply_death(
    uow: IdentityUnitOfWork,
    iin: str,
    date_of_death: date,
    act_number: str | None,
    now: datetime,
) -> Person:
    """The death use case inside an already open unit of work (event handlers: the consumer
    owns the transaction, its inbox row and the commit)."""
    person = await uow.persons.get(iin, for_update=True)
    if person is None:
        raise NotFound(f"no person with IIN {iin}")
    changed = person.mark_deceased(date_of_death, act_number=act_number, now=now)
    if changed:
        await uow.persons.save(person)
        uow.publish(person.events, subject=iin)
    await revoke_all_of(uow, iin, "holder_deceased", now)
    revoked = 0
    for family in await uow.tokens.families_of(iin):
        if family.revoke("holder deceased", now):
            await uow.tokens.save_family(family)
            revoked += 1
    if changed or revoked:  # a repeated death registration announces nothing new
        announce(uow, iin, "person_deceased", now)
    return person


async def apply_birth(
    uow: IdentityUnitOfWork,
    child_iin: str,
    mother_iin: str | None,
    father_iin: str | None,
    now: datetime,
    *,
    fallback: PersonDetails | None = None,
) -> Person:
    """Link a registered child to its parents (idempotent), inside an open unit of work. The
    child normally exists (the registry had identity allocate the IIN); if not, it is
    entered from the birth record."""
    child = await uow.persons.get(child_iin, for_update=True)
    if child is None:
        if fallback is None:
            raise NotFound(f"no person with IIN {child_iin}")
        fallback.mother_iin = fallback.father_iin = None  # linked below, after the checks
        child = Person.register(child_iin, fallback, now=now)
        await uow.persons.add(child)
        uow.publish(child.events, subject=child_iin)
    parents = await uow.persons.get_many([p for p in (mother_iin, father_iin) if p])
    missing = [p for p in (mother_iin, father_iin) if p and p not in parents]
    if missing:
        raise NotFound(f"parent(s) {', '.join(missing)} unknown to SDB Individuals")
    mother = parents.get(mother_iin or "")
    father = parents.get(father_iin or "")
    if child.link_parents(mother, father, now=now):
        await uow.persons.save(child)
        uow.publish(child.events, subject=child_iin)
    return child


async def search_persons(
    uow: IdentityUnitOfWork,
    call: RoutedCall,
    *,
    iin: str | None,
    surname: str | None,
    given_name: str | None,
    birth_date: date | None,
    page: int,
    size: int,
) -> tuple[list[Person], int]:
    _require_agency(call, "search persons")
    if not iin and not surname:
        raise RuleViolation(
            "search by iin, or by surname (with given_name and/or birth_date)",
            errors={"surname": "give iin or surname"},
        )
    from egov_identity.adapters.repositories import PersonSearch

    async with uow:
        return await uow.persons.search(
            PersonSearch(
                iin=iin,
                surname=surname,
                given_name=given_name,
                birth_date=birth_date,
                page=page,
                size=size,
            )
        )


# -- who holds my data --------------------------------------------------------------------------
class DisclosureLog:
    """Which agency read which category of whose data: buffered in memory and written in
    batches, so reading a person costs no write (the citizen's view lags by ~1 s)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory
        self._pending: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._lock = asyncio.Lock()

    def record(self, iin: str, agency: str, purpose: str | None, now: datetime) -> None:
        for category in PERSON_RECORD_CATEGORIES:
            row = self._pending.get((iin, agency, category))
            if row is None:
                self._pending[(iin, agency, category)] = {
                    "iin": iin,
                    "agency": agency,
                    "category": category,
                    "first_at": now,
                    "last_at": now,
                    "times": 1,
                    "last_purpose": (purpose or "")[:300] or None,
                }
            else:
                row["last_at"] = now
                row["times"] += 1
                row["last_purpose"] = (purpose or "")[:300] or row["last_purpose"]

    async def flush(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            rows, self._pending = list(self._pending.values()), {}
            rows.sort(key=lambda r: (r["iin"], r["agency"], r["category"]))  # no deadlocks
            uow = self._uow()
            assert isinstance(uow, IdentityUnitOfWork)
            try:
                async with uow:
                    await uow.persons.record_disclosures(rows)
                    await uow.commit()
            except Exception:
                for row in rows:  # keep them for the next batch
                    key = (row["iin"], row["agency"], row["category"])
                    newer = self._pending.get(key)
                    if newer is not None:
                        newer["first_at"] = row["first_at"]
                        newer["times"] += row["times"]
                    else:
                        self._pending[key] = row
                raise

    async def run(self, interval_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval_s)  # periodic batch write, not synchronisation
            try:
                await self.flush()
            except Exception:  # keep the loop; the next batch retries what is new
                import structlog

                structlog.get_logger("identity.disclosures").exception("disclosures.flush_failed")
