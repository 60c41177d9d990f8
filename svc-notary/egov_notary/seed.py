"""Dev-mode demo data: a few active notaries in the main cities (idempotent, fast).

IINs come from ``meshkit.ids.random_iin(random.Random(7005))`` so every machine seeds the
same notaries; svc-notary/README.md lists them.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import structlog

from egov_notary.domain.notaries import Notary
from egov_notary.service_layer.unit_of_work import NotaryUnitOfWork
from meshkit.ids import random_iin
from meshkit.service import ServiceRuntime

log = structlog.get_logger("egov_notary.seed")

SEED = 7005
# (full name, sex, license number, region)
DEMO_NOTARIES: tuple[tuple[str, str, str, str], ...] = (
    ("Жұмабекова Әсел Қайратқызы", "female", "0001101", "Астана"),
    ("Сәрсенбаев Нұрлан Ерғалиұлы", "male", "0002207", "Алматы"),
    ("Оспанова Гүлнар Төлеубайқызы", "female", "0003312", "Шымкент"),
    ("Қасымов Ерлан Бауыржанұлы", "male", "0004418", "Қарағанды"),
    ("Иванова Ольга Петровна", "female", "0005523", "Алматы"),
)


def demo_notaries() -> list[tuple[str, str, str, str]]:
    """(iin, full name, license number, region) of the dev notaries, always the same."""
    rng = random.Random(SEED)
    out = []
    for name, sex, license_number, region in DEMO_NOTARIES:
        iin = random_iin(
            rng,
            sex=sex,
            earliest=date(1960, 1, 1),
            today=date(1995, 12, 31),
        )
        out.append((iin, name, license_number, region))
    return out


async def seed_demo_data(runtime: ServiceRuntime) -> None:
    if not runtime.settings.dev_mode:
        return
    now = datetime.now(UTC)
    uow = runtime.uow_factory()
    assert isinstance(uow, NotaryUnitOfWork)
    added = 0
    async with uow:
        for iin, name, license_number, region in demo_notaries():
            if await uow.notaries.get(iin) or await uow.notaries.by_license(license_number):
                continue
            await uow.notaries.add(
                Notary(
                    iin=iin,
                    full_name=name,
                    license_number=license_number,
                    region=region,
                    status="active",
                    registered_at=now,
                    updated_at=now,
                )
            )
            added += 1
        await uow.commit()
    log.info("seed.notaries", added=added)
