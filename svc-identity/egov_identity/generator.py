"""Synthetic persons for load tests: ``python -m egov_identity generate-persons``.

Valid, unique IINs (birth date and sex encoded, serials per (date, sex) as identity allocates
them), Kazakh names, and parent links for about half of the people. On PostgreSQL the rows go
in with COPY (asyncpg); SQLite gets batched INSERTs (fine for small counts). The allocation
counters are moved past the generated serials so later registrations never collide. The
generated persons are not announced as events (synthetic data is not news for the mesh).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from egov_identity.adapters import orm
from egov_identity.domain.persons import name_key
from meshkit.db import create_engine, is_postgres
from meshkit.ids import IIN_SERIAL_MAX, check_digit
from meshkit.migrations import upgrade_to_head

MALE_NAMES = [
    "Әлихан",
    "Нұрсұлтан",
    "Ерасыл",
    "Ержан",
    "Қуаныш",
    "Ғалым",
    "Бауыржан",
    "Дәулет",
    "Айбек",
    "Нұрлан",
    "Серік",
    "Болат",
    "Қанат",
    "Ерлан",
    "Асхат",
    "Мирас",
    "Әділет",
    "Жандос",
    "Темірлан",
    "Арман",
    "Санжар",
    "Ілияс",
    "Өтеген",
    "Ұлан",
    "Шаһмардан",
    "Тимур",
]
FEMALE_NAMES = [
    "Гүлнұр",
    "Айғаным",
    "Әйгерім",
    "Іңкәр",
    "Үміт",
    "Ақбота",
    "Жанар",
    "Сәуле",
    "Гүлмира",
    "Айгүл",
    "Динара",
    "Мөлдір",
    "Аружан",
    "Томирис",
    "Ұлжан",
    "Әсел",
    "Назерке",
    "Камила",
    "Жансая",
    "Ләззат",
    "Перизат",
    "Шұғыла",
    "Дана",
    "Балнұр",
]
SURNAME_STEMS = [
    "Сәрсенбай",
    "Қайрат",
    "Өмірзақ",
    "Ұлықбек",
    "Жаһан",
    "Тұрсын",
    "Нұрлан",
    "Серік",
    "Ахмет",
    "Қасым",
    "Бекмұхамбет",
    "Әбдірахман",
    "Есенжол",
    "Мұхамедж",
    "Исмаил",
    "Тоқтар",
    "Жұмабай",
    "Құдайберген",
    "Оспан",
    "Байтұрсын",
    "Әуез",
    "Ғабит",
]
CITIES = [
    "Алматы",
    "Астана",
    "Шымкент",
    "Қарағанды",
    "Ақтөбе",
    "Тараз",
    "Павлодар",
    "Өскемен",
    "Семей",
    "Атырау",
    "Қостанай",
]
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
COLUMNS = (
    "iin",
    "surname",
    "given_name",
    "patronymic",
    "surname_key",
    "given_key",
    "birth_date",
    "sex",
    "citizenship",
    "birth_place",
    "address",
    "phone",
    "status",
    "date_of_death",
    "death_act_number",
    "mother_iin",
    "father_iin",
    "created_at",
    "updated_at",
)


def _surname(stem: str, sex: str) -> str:
    base = stem[:-1] + "ев" if stem.endswith(("ай", "ей")) else stem + "ов"
    return base + ("а" if sex == "female" else "")


def generate(
    count: int,
    *,
    seed: int = 2026,
    today: date | None = None,
    serials: dict[tuple[date, str], int] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Rows of ``persons`` (in :data:`COLUMNS` order), oldest first."""
    rng = random.Random(seed)
    today = today or date.today()
    earliest = date(1930, 1, 1)
    span = (today - earliest).days
    births = sorted(
        (earliest + timedelta(days=rng.randrange(span)), rng.random() < 0.5) for _ in range(count)
    )
    next_serial = dict(serials or {})
    keys: dict[str, str] = {}
    now = datetime.now(UTC)
    # parents already generated, by sex: birth dates (sorted) and their IINs and given names
    pool: dict[bool, tuple[list[date], list[str], list[str]]] = {
        True: ([], [], []),
        False: ([], [], []),
    }
    for birth_date, male in births:
        sex = "male" if male else "female"
        key = (birth_date, sex)
        serial = next_serial.get(key, 0)
        prefix = f"{birth_date:%y%m%d}{(birth_date.year // 100 - 18) * 2 + (1 if male else 2)}"
        digit = None
        while digit is None:
            if serial > IIN_SERIAL_MAX:
                raise ValueError(f"IIN serials exhausted for {birth_date} ({sex})")
            first11 = f"{prefix}{serial:04d}"
            digit = check_digit(first11)
            serial += 1
        iin = f"{first11}{digit}"
        next_serial[key] = serial
        given = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
        surname = _surname(rng.choice(SURNAME_STEMS), sex)
        mother = father = None
        father_name = rng.choice(MALE_NAMES)
        if rng.random() < 0.5:
            cutoff = birth_date - timedelta(days=20 * 365)
            for parent_male in (False, True):
                dates, iins, names = pool[parent_male]
                k = bisect.bisect_right(dates, cutoff)
                if k:
                    pick = rng.randrange(max(0, k - 20000), k)
                    if parent_male:
                        father, father_name = iins[pick], names[pick]
                    else:
                        mother = iins[pick]
        patronymic = father_name + ("ұлы" if male else "қызы")
        city = rng.choice(CITIES)
        dates, iins, names = pool[male]
        dates.append(birth_date)
        iins.append(iin)
        names.append(given)
        yield (
            iin,
            surname,
            given,
            patronymic,
            keys.get(surname) or keys.setdefault(surname, name_key(surname)),
            keys.get(given) or keys.setdefault(given, name_key(given)),
            birth_date,
            sex,
            "KZ",
            f"{city} қ.",
            f"{city} қ., {rng.randint(1, 300)}-үй, {rng.randint(1, 200)} п.",
            f"+77{rng.randint(0, 99):02d}{rng.randint(0, 9_999_999):07d}",
            "active",
            None,
            None,
            mother,
            father,
            now,
            now,
        )


async def load(
    database_url: str, count: int, *, seed: int, batch: int = 100_000
) -> dict[str, float]:
    """Generate ``count`` persons into the database at ``database_url`` (migrated first)."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine, MIGRATIONS)
    await _sync_serials(engine, database_url)  # persons entered otherwise (seed, API)
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT birth_date, sex, next_serial FROM iin_serials"))
        serials = {(_as_date(r.birth_date), r.sex): int(r.next_serial) for r in rows}
    started = time.perf_counter()
    rows_iter = generate(count, seed=seed, serials=serials)
    cpu_start = time.process_time()
    pg_cpu: float | None = None
    if is_postgres(database_url):
        pg_cpu = await _copy_postgres(database_url, rows_iter, batch)
    else:
        async with engine.begin() as conn:
            chunk: list[dict[str, Any]] = []
            for row in rows_iter:
                chunk.append(dict(zip(COLUMNS, row, strict=True)))
                if len(chunk) >= 5000:
                    await conn.execute(insert(orm.persons), chunk)
                    chunk = []
            if chunk:
                await conn.execute(insert(orm.persons), chunk)
    loaded = time.perf_counter() - started
    own_cpu = time.process_time() - cpu_start
    await _sync_serials(engine, database_url)
    async with engine.connect() as conn:
        if is_postgres(database_url):
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE persons"))
        total = (await conn.execute(text("SELECT count(*) FROM persons"))).scalar_one()
    await engine.dispose()
    return {
        "generated": count,
        "total_persons": int(total),
        "seconds": round(time.perf_counter() - started, 1),
        "load_seconds": round(loaded, 1),
        "generator_cpu_s": round(own_cpu, 1),
        "postgres_backend_cpu_s": round(pg_cpu, 1) if pg_cpu is not None else -1.0,
    }


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)  # SQLite: text


async def _sync_serials(engine: Any, database_url: str) -> None:
    """Move the allocation counters past the highest serial per (birth date, sex)."""
    pg = is_postgres(database_url)
    serial = (
        "CAST(substring(iin from 8 for 4) AS INTEGER)"
        if pg
        else "CAST(substr(iin, 8, 4) AS INTEGER)"
    )
    greatest = "GREATEST" if pg else "MAX"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"INSERT INTO iin_serials (birth_date, sex, next_serial) "
                f"SELECT birth_date, sex, MAX({serial}) + 1 FROM persons WHERE true "
                f"GROUP BY birth_date, sex "
                f"ON CONFLICT (birth_date, sex) DO UPDATE SET next_serial = "
                f"{greatest}(iin_serials.next_serial, excluded.next_serial)"
            )
        )


SECONDARY_INDEXES = ("ix_persons_mother_iin", "ix_persons_father_iin", "ix_persons_name_birth")


def _backend_cpu_s(pid: int) -> float | None:
    """CPU seconds of a local PostgreSQL backend (None when it is not on this machine)."""
    import os

    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _copy_postgres(
    database_url: str, rows: Iterator[tuple[Any, ...]], batch: int
) -> float | None:
    """COPY in batches; the next batch is generated in a thread while PostgreSQL ingests the
    current one, and the secondary indexes are rebuilt once at the end (much faster than
    maintaining them row by row)."""
    import asyncpg

    url = make_url(database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))

    def next_chunk() -> list[tuple[Any, ...]]:
        return [row for _, row in zip(range(batch), rows, strict=False)]

    try:
        definitions = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'persons' "
            "AND indexname = ANY($1::text[])",
            list(SECONDARY_INDEXES),
        )
        await conn.execute("SET maintenance_work_mem = '256MB'")
        await conn.execute("SET synchronous_commit = off")
        for d in definitions:
            await conn.execute(f'DROP INDEX IF EXISTS "{d["indexname"]}"')
        try:
            pending = asyncio.create_task(asyncio.to_thread(next_chunk))
            while chunk := await pending:
                pending = asyncio.create_task(asyncio.to_thread(next_chunk))
                await conn.copy_records_to_table("persons", records=chunk, columns=list(COLUMNS))
        finally:
            for d in definitions:
                await conn.execute(d["indexdef"])
        return _backend_cpu_s(conn.get_server_pid())
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m egov_identity generate-persons")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: the service's settings")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    url = args.database_url
    if url is None:
        from egov_identity.settings import IdentitySettings

        url = IdentitySettings().effective_database_url
    result = asyncio.run(load(url, args.count, seed=args.seed))
    print(
        f"generated {result['generated']} persons in {result['seconds']} s "
        f"({result['total_persons']} in the register; CPU: generator "
        f"{result['generator_cpu_s']} s, PostgreSQL backend {result['postgres_backend_cpu_s']} s)"
    )
