"""Dev-mode demo data: real estate in Astana and Almaty owned by the demo citizens, one
object under arrest, one mortgaged, and one LLP. Idempotent and fast (one transaction).

Demo IINs are derived deterministically so that every service (identity creates these
persons) agrees on them without sharing a database:
``rng = random.Random("egov-mesh-demo")`` then, in this order, ``random_iin(rng,
birth_date=..., sex=...)`` for each person of :data:`DEMO_PEOPLE` (see README.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import structlog

from egov_registry.domain.legal_entities import FounderStake, LegalEntity
from egov_registry.domain.real_estate import Property
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.ids import Sex, random_bin, random_iin
from meshkit.messaging import UnitOfWorkFactory

log = structlog.get_logger("registry.seed")

DEMO_SEED = "egov-mesh-demo"
# fixed so the derivation never depends on the day it runs
_DERIVATION_TODAY = date(2025, 1, 1)


@dataclass(frozen=True)
class DemoPerson:
    surname: str
    given_name: str
    patronymic: str
    birth_date: date
    sex: Sex
    address: str


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "Сәрсенбаев",
        "Әлихан",
        "Нұрланұлы",
        date(1990, 1, 15),
        "male",
        "Астана қ., Есіл ауданы, Қабанбай батыр даңғылы, 11, 45-пәтер",
    ),
    DemoPerson(
        "Сәрсенбаева",
        "Айгерім",
        "Серікқызы",
        date(1992, 5, 20),
        "female",
        "Астана қ., Есіл ауданы, Қабанбай батыр даңғылы, 11, 45-пәтер",
    ),
    DemoPerson(
        "Омаров",
        "Дәурен",
        "Қанатұлы",
        date(1985, 11, 3),
        "male",
        "Алматы қ., Медеу ауданы, Достық даңғылы, 97, 12-пәтер",
    ),
    DemoPerson(
        "Ахметова",
        "Гүлнар",
        "Болатқызы",
        date(1978, 3, 8),
        "female",
        "Астана қ., Сарыарқа ауданы, Жеңіс даңғылы, 35",
    ),
    DemoPerson(
        "Жақсылықов",
        "Ерлан",
        "Маратұлы",
        date(1970, 7, 30),
        "male",
        "Алматы қ., Бостандық ауданы, Әл-Фараби даңғылы, 21, 7-пәтер",
    ),
)


def demo_iins() -> list[str]:
    rng = random.Random(DEMO_SEED)
    return [
        random_iin(rng, birth_date=p.birth_date, sex=p.sex, today=_DERIVATION_TODAY)
        for p in DEMO_PEOPLE
    ]


def demo_bin() -> str:
    """The demo LLP's BIN (registered April 2019): from the same generator, after the IINs."""
    rng = random.Random(DEMO_SEED)
    for p in DEMO_PEOPLE:
        random_iin(rng, birth_date=p.birth_date, sex=p.sex, today=_DERIVATION_TODAY)
    return random_bin(
        rng, year=2019, month=4, entity_type="resident", kind="head", today=_DERIVATION_TODAY
    )


async def seed_demo_data(uow_factory: UnitOfWorkFactory) -> int:
    """Insert what is missing; returns how many objects were added."""
    alikhan, aigerim, dauren, gulnar, yerlan = demo_iins()
    llp = demo_bin()
    since = datetime(2019, 4, 12, 9, 0, tzinfo=UTC)
    half = Fraction(1, 2)
    objects = [
        Property(
            "21:318:010:123:4",
            "apartment",
            "Астана қ., Есіл ауданы, Қабанбай батыр даңғылы, 11, 45-пәтер",
            Decimal("78.50"),
            {alikhan: half, aigerim: half},
            since,
        ),
        Property(
            "20:311:005:041:17",
            "apartment",
            "Алматы қ., Медеу ауданы, Достық даңғылы, 97, 12-пәтер",
            Decimal("64.20"),
            {dauren: Fraction(1)},
            since,
        ),
        Property(
            "21:320:044:007",
            "house",
            "Астана қ., Сарыарқа ауданы, Жеңіс даңғылы, 35",
            Decimal("182.00"),
            {gulnar: Fraction(1)},
            since,
        ),
        Property(
            "20:313:018:092:3",
            "apartment",
            "Алматы қ., Бостандық ауданы, Әл-Фараби даңғылы, 21, 7-пәтер",
            Decimal("96.75"),
            {yerlan: Fraction(2, 3), gulnar: Fraction(1, 3)},
            since,
        ),
        Property(
            "21:311:002:015:101",
            "non_residential",
            "Астана қ., Алматы ауданы, Сығанақ көшесі, 2, 101-кеңсе",
            Decimal("120.00"),
            {llp: Fraction(1)},
            since,
        ),
    ]
    mortgage = objects[0].impose(
        encumbrance_id="00000000-0000-4000-8000-000000000001",
        kind="mortgage",
        imposed_by="«Қазақстан Халық Банкі» АҚ",
        basis="ипотекалық шарт № ИП-2019-04412",
        lifts_at=datetime(2039, 4, 12, tzinfo=UTC),
        now=since,
    )
    arrest = objects[1].impose(
        encumbrance_id="00000000-0000-4000-8000-000000000002",
        kind="arrest",
        imposed_by="Алматы қ. Медеу аудандық соты",
        basis="сот ұйғарымы № 2-1187/2024",
        lifts_at=None,
        now=datetime(2024, 9, 2, 10, 0, tzinfo=UTC),
    )
    assert mortgage and arrest
    entity = LegalEntity(
        bin=llp,
        name_kk="«Дала Софт» ЖШС",
        name_ru="ТОО «Дала Софт»",
        legal_form="LLP",
        status="active",
        director_iin=alikhan,
        founders=[FounderStake(alikhan, Fraction(2, 3)), FounderStake(dauren, Fraction(1, 3))],
        address="Астана қ., Алматы ауданы, Сығанақ көшесі, 2, 101-кеңсе",
        activity_codes=["62.01", "62.02"],
        registered_at=since,
    )
    added = 0
    uow = uow_factory()
    assert isinstance(uow, RegistryUnitOfWork)
    async with uow:
        if not await uow.entities.exists(entity.bin):
            await uow.entities.add(entity)
            added += 1
        for prop in objects:
            if not await uow.properties.exists(prop.cadastral_number):
                await uow.properties.add(prop)
                added += 1
        await uow.commit()
    log.info("seed.done", added=added)
    return added
