"""Repositories: load and save the registry's aggregates on one SQLAlchemy session."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from egov_registry.adapters.orm import (
    birth_acts,
    certificates,
    counters,
    death_acts,
    death_notices,
    encumbrances,
    legal_entities,
    legal_entity_founders,
    legal_entity_status_history,
    properties,
    property_owners,
    property_transfers,
)
from egov_registry.domain.certificates import Certificate
from egov_registry.domain.civil_status import BirthAct, DeathAct, DeathNotice
from egov_registry.domain.legal_entities import FounderStake, LegalEntity, search_key
from egov_registry.domain.real_estate import Encumbrance, Property


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _utc_opt(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name


class Counters(_Repository):
    """Named counters. On PostgreSQL the row is locked (FOR UPDATE) until the transaction ends,
    so concurrent allocations are serialised; SQLite serialises writers at BEGIN IMMEDIATE."""

    async def allocate(self, name: str, pick: Callable[[int], int] = lambda n: n) -> int:
        """Reserve the next value: ``pick(next_free)`` → the value used (>= next_free)."""
        ins = pg_insert(counters) if self.dialect == "postgresql" else sqlite_insert(counters)
        await self.session.execute(
            ins.values(name=name, value=1).on_conflict_do_nothing(index_elements=["name"])
        )
        current = (
            await self.session.execute(
                select(counters.c.value).where(counters.c.name == name).with_for_update()
            )
        ).scalar_one()
        used = pick(int(current))
        await self.session.execute(
            update(counters).where(counters.c.name == name).values(value=used + 1)
        )
        return used


class BirthActs(_Repository):
    async def add(self, act: BirthAct) -> None:
        await self.session.execute(insert(birth_acts).values(**vars(act)))

    async def get(self, act_number: str) -> BirthAct | None:
        row = (
            (
                await self.session.execute(
                    select(birth_acts).where(birth_acts.c.act_number == act_number)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._act(row)

    async def by_child(self, child_iin: str) -> BirthAct | None:
        row = (
            (
                await self.session.execute(
                    select(birth_acts).where(birth_acts.c.child_iin == child_iin)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._act(row)

    @staticmethod
    def _act(row: RowMapping) -> BirthAct:
        data = dict(row)
        data["registered_at"] = _utc(data["registered_at"])
        return BirthAct(**data)


class DeathActs(_Repository):
    async def add(self, act: DeathAct) -> None:
        await self.session.execute(insert(death_acts).values(**vars(act)))

    async def get(self, act_number: str) -> DeathAct | None:
        row = (
            (
                await self.session.execute(
                    select(death_acts).where(death_acts.c.act_number == act_number)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._act(row)

    async def of_person(self, iin: str) -> DeathAct | None:
        row = (
            (await self.session.execute(select(death_acts).where(death_acts.c.iin == iin)))
            .mappings()
            .first()
        )
        return None if row is None else self._act(row)

    @staticmethod
    def _act(row: RowMapping) -> DeathAct:
        data = dict(row)
        data["registered_at"] = _utc(data["registered_at"])
        return DeathAct(**data)


class DeathNotices(_Repository):
    async def add(self, notice: DeathNotice) -> None:
        await self.session.execute(
            insert(death_notices).values(
                **vars(notice), open_iin=notice.iin if notice.open else None
            )
        )

    async def get(self, notice_id: str) -> DeathNotice | None:
        row = (
            (
                await self.session.execute(
                    select(death_notices).where(death_notices.c.id == notice_id)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._notice(row)

    async def open_for(self, iin: str) -> DeathNotice | None:
        """The notice on file for this person that no death act has consumed yet."""
        row = (
            (
                await self.session.execute(
                    select(death_notices).where(death_notices.c.open_iin == iin)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._notice(row)

    async def consume(self, notice: DeathNotice, act_number: str, now: datetime) -> None:
        notice.act_number, notice.consumed_at = act_number, now
        await self.session.execute(
            update(death_notices)
            .where(death_notices.c.id == notice.id)
            .values(act_number=act_number, consumed_at=now, open_iin=None)
        )

    @staticmethod
    def _notice(row: RowMapping) -> DeathNotice:
        data = dict(row)
        data.pop("open_iin")
        data["filed_at"] = _utc(data["filed_at"])
        data["consumed_at"] = _utc_opt(data["consumed_at"])
        return DeathNotice(**data)


class LegalEntities(_Repository):
    async def add(self, entity: LegalEntity) -> None:
        await self.session.execute(
            insert(legal_entities).values(
                bin=entity.bin,
                name_kk=entity.name_kk,
                name_ru=entity.name_ru,
                search_name=search_key(entity.name_kk, entity.name_ru),
                legal_form=entity.legal_form,
                status=entity.status,
                director_iin=entity.director_iin,
                address=entity.address,
                activity_codes=list(entity.activity_codes),
                registered_at=entity.registered_at,
                application_ref=entity.application_ref,
                status_reason=entity.status_reason,
                status_effective_date=entity.status_effective_date,
            )
        )
        await self.session.execute(
            insert(legal_entity_founders),
            [
                {
                    "bin": entity.bin,
                    "founder_id": f.id,
                    "position": i,
                    "share_num": f.share.numerator,
                    "share_den": f.share.denominator,
                }
                for i, f in enumerate(entity.founders)
            ],
        )

    async def exists(self, bin_: str) -> bool:
        found = await self.session.execute(
            select(legal_entities.c.bin).where(legal_entities.c.bin == bin_)
        )
        return found.first() is not None

    async def get(self, bin_: str, *, for_update: bool = False) -> LegalEntity | None:
        query = select(legal_entities).where(legal_entities.c.bin == bin_)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        if row is None:
            return None
        return (await self._load([row]))[0]

    async def save_status(self, entity: LegalEntity, changed_by: str) -> None:
        await self.session.execute(
            update(legal_entities)
            .where(legal_entities.c.bin == entity.bin)
            .values(
                status=entity.status,
                status_reason=entity.status_reason,
                status_effective_date=entity.status_effective_date,
            )
        )
        now = datetime.now(UTC)
        for event in entity.events:
            await self.session.execute(
                insert(legal_entity_status_history).values(
                    bin=entity.bin,
                    old_status=event.old_status,
                    new_status=event.new_status,
                    reason=event.reason,
                    effective_date=event.effective_date,
                    changed_at=now,
                    changed_by=changed_by,
                )
            )
        entity.events.clear()

    async def search(self, q: str, *, limit: int, offset: int) -> tuple[list[LegalEntity], int]:
        needle = search_key(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        cond = legal_entities.c.search_name.like(f"%{needle}%", escape="\\")
        total = (
            await self.session.execute(select(func.count()).select_from(legal_entities).where(cond))
        ).scalar_one()
        rows = (
            (
                await self.session.execute(
                    select(legal_entities)
                    .where(cond)
                    .order_by(legal_entities.c.name_ru, legal_entities.c.bin)
                    .limit(limit)
                    .offset(offset)
                )
            )
            .mappings()
            .all()
        )
        return await self._load(rows), int(total)

    async def _load(self, rows: Sequence[RowMapping]) -> list[LegalEntity]:
        bins = [r["bin"] for r in rows]
        founders: dict[str, list[FounderStake]] = defaultdict(list)
        if bins:
            for f in (
                await self.session.execute(
                    select(legal_entity_founders)
                    .where(legal_entity_founders.c.bin.in_(bins))
                    .order_by(legal_entity_founders.c.bin, legal_entity_founders.c.position)
                )
            ).mappings():
                founders[f["bin"]].append(
                    FounderStake(f["founder_id"], Fraction(f["share_num"], f["share_den"]))
                )
        return [
            LegalEntity(
                bin=r["bin"],
                name_kk=r["name_kk"],
                name_ru=r["name_ru"],
                legal_form=r["legal_form"],
                status=r["status"],
                director_iin=r["director_iin"],
                founders=founders[r["bin"]],
                address=r["address"],
                activity_codes=list(r["activity_codes"] or []),
                registered_at=_utc(r["registered_at"]),
                application_ref=r["application_ref"],
                status_reason=r["status_reason"],
                status_effective_date=r["status_effective_date"],
            )
            for r in rows
        ]


class Properties(_Repository):
    async def add(self, prop: Property) -> None:
        await self.session.execute(
            insert(properties).values(
                cadastral_number=prop.cadastral_number,
                kind=prop.kind,
                address=prop.address,
                area_m2=prop.area_m2,
                registered_at=prop.registered_at,
            )
        )
        await self._write_owners(prop)
        for enc in prop.encumbrances:
            await self.add_encumbrance(enc)

    async def exists(self, cadastral_number: str) -> bool:
        found = await self.session.execute(
            select(properties.c.cadastral_number).where(
                properties.c.cadastral_number == cadastral_number
            )
        )
        return found.first() is not None

    async def get(self, cadastral_number: str, *, for_update: bool = False) -> Property | None:
        query = select(properties).where(properties.c.cadastral_number == cadastral_number)
        if for_update:  # transfers of one object are serialised on PostgreSQL
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else (await self._load([row]))[0]

    async def held_by(self, holder: str) -> list[Property]:
        rows = (
            (
                await self.session.execute(
                    select(properties)
                    .join(
                        property_owners,
                        property_owners.c.cadastral_number == properties.c.cadastral_number,
                    )
                    .where(property_owners.c.holder_id == holder)
                    .order_by(properties.c.cadastral_number)
                )
            )
            .mappings()
            .all()
        )
        return await self._load(rows)

    async def save_owners(self, prop: Property) -> None:
        await self.session.execute(
            delete(property_owners).where(
                property_owners.c.cadastral_number == prop.cadastral_number
            )
        )
        await self._write_owners(prop)

    async def _write_owners(self, prop: Property) -> None:
        await self.session.execute(
            insert(property_owners),
            [
                {
                    "cadastral_number": prop.cadastral_number,
                    "holder_id": s.holder,
                    "share_num": s.share.numerator,
                    "share_den": s.share.denominator,
                }
                for s in prop.stakes()
            ],
        )

    async def add_encumbrance(self, enc: Encumbrance) -> None:
        await self.session.execute(insert(encumbrances).values(**vars(enc)))

    async def get_encumbrance(self, encumbrance_id: str) -> Encumbrance | None:
        row = (
            (
                await self.session.execute(
                    select(encumbrances)
                    .where(encumbrances.c.id == encumbrance_id)
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else self._encumbrance(row)

    async def save_release(self, enc: Encumbrance) -> None:
        await self.session.execute(
            update(encumbrances)
            .where(encumbrances.c.id == enc.id)
            .values(released_at=enc.released_at, release_reason=enc.release_reason)
        )

    @staticmethod
    def _encumbrance(row: RowMapping) -> Encumbrance:
        data: dict[str, Any] = dict(row)
        for k in ("imposed_at", "lifts_at", "released_at"):
            data[k] = _utc_opt(data[k])
        return Encumbrance(**data)

    async def _load(self, rows: Sequence[RowMapping]) -> list[Property]:
        numbers = [r["cadastral_number"] for r in rows]
        owners: dict[str, dict[str, Fraction]] = defaultdict(dict)
        encs: dict[str, list[Encumbrance]] = defaultdict(list)
        if numbers:
            for o in (
                await self.session.execute(
                    select(property_owners).where(property_owners.c.cadastral_number.in_(numbers))
                )
            ).mappings():
                owners[o["cadastral_number"]][o["holder_id"]] = Fraction(
                    o["share_num"], o["share_den"]
                )
            for e in (
                await self.session.execute(
                    select(encumbrances)
                    .where(encumbrances.c.cadastral_number.in_(numbers))
                    .order_by(encumbrances.c.imposed_at, encumbrances.c.id)
                )
            ).mappings():
                encs[e["cadastral_number"]].append(self._encumbrance(e))
        return [
            Property(
                cadastral_number=r["cadastral_number"],
                kind=r["kind"],
                address=r["address"],
                area_m2=Decimal(r["area_m2"]).quantize(Decimal("0.01")),
                owners=owners[r["cadastral_number"]],
                registered_at=_utc(r["registered_at"]),
                encumbrances=encs[r["cadastral_number"]],
            )
            for r in rows
        ]


class Transfers(_Repository):
    """Which notarial sale acts were decided on (the act-number idempotency of transfers)."""

    async def decided(self, act_number: str) -> bool:
        found = await self.session.execute(
            select(property_transfers.c.act_number).where(
                property_transfers.c.act_number == act_number
            )
        )
        return found.first() is not None

    async def record(
        self, act_number: str, cadastral_number: str, outcome: str, reason: str | None
    ) -> None:
        await self.session.execute(
            insert(property_transfers).values(
                act_number=act_number,
                cadastral_number=cadastral_number,
                outcome=outcome,
                reason=reason,
                processed_at=datetime.now(UTC),
            )
        )

    async def outcome(self, act_number: str) -> tuple[str, str | None] | None:
        row = (
            await self.session.execute(
                select(property_transfers.c.outcome, property_transfers.c.reason).where(
                    property_transfers.c.act_number == act_number
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])


class Certificates(_Repository):
    async def add(self, cert: Certificate) -> None:
        await self.session.execute(insert(certificates).values(**vars(cert)))

    async def get(self, number: str) -> Certificate | None:
        row = (
            (
                await self.session.execute(
                    select(certificates).where(certificates.c.number == number)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        data = dict(row)
        data["issued_at"] = _utc(data["issued_at"])
        data["expires_at"] = _utc(data["expires_at"])
        return Certificate(**data)
