"""The working-day calendar of the Republic of Kazakhstan, for service terms (SLA).

Sources: the Law "On holidays in the Republic of Kazakhstan" (art. 5) and the Labour Code
(art. 84, 85):

* national and state holidays are days off; when one falls on a Saturday or Sunday, the
  day off moves to the next working day (art. 5 of the Law on holidays);
* the first day of Kurban Ait and Orthodox Christmas (7 January) are days off too, but they
  are religious holidays: they are **not** moved when they fall on a weekend;
* Kurban Ait is movable: its date is set each year by the Ministry of Labour with the
  Spiritual Administration of Muslims of Kazakhstan (table below);
* the Government may, by decree, swap a Saturday for a working day around a holiday
  (art. 85 p. 3); the decrees we know of are listed in ``DECREE_TRANSFERS``.

Service terms are counted in working days of a five-day week, in Almaty time (UTC+5 for the
whole country since 1 March 2024).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache

#: Asia/Almaty — the whole of Kazakhstan keeps UTC+5 since 2024-03-01
ALMATY = timezone(timedelta(hours=5), "Asia/Almaty")

#: the last instant of a working day (a term "ends with the working day")
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Holiday:
    month: int
    day: int
    name_kk: str
    name_ru: str
    name_en: str
    moves_off_weekend: bool = True  # False for the religious holidays
    since: int | None = None  # first year the day off applies
    until: int | None = None  # last year the day off applied

    def applies(self, year: int) -> bool:
        return (self.since is None or year >= self.since) and (
            self.until is None or year <= self.until
        )


FIXED_HOLIDAYS: tuple[Holiday, ...] = (
    Holiday(1, 1, "Жаңа жыл", "Новый год", "New Year"),
    Holiday(1, 2, "Жаңа жыл", "Новый год", "New Year"),
    Holiday(
        1,
        7,
        "Православиелік Рождество",
        "Православное Рождество",
        "Orthodox Christmas",
        moves_off_weekend=False,
        since=2007,
    ),
    Holiday(
        3, 8, "Халықаралық әйелдер күні", "Международный женский день", "International Women's Day"
    ),
    Holiday(3, 21, "Наурыз мейрамы", "Наурыз мейрамы", "Nauryz"),
    Holiday(3, 22, "Наурыз мейрамы", "Наурыз мейрамы", "Nauryz"),
    Holiday(3, 23, "Наурыз мейрамы", "Наурыз мейрамы", "Nauryz"),
    Holiday(
        5,
        1,
        "Қазақстан халқының бірлігі мерекесі",
        "Праздник единства народа Казахстана",
        "Unity Day of the People of Kazakhstan",
    ),
    Holiday(
        5,
        7,
        "Отан қорғаушы күні",
        "День защитника Отечества",
        "Defender of the Fatherland Day",
        since=2013,
    ),
    Holiday(5, 9, "Жеңіс күні", "День Победы", "Victory Day"),
    Holiday(7, 6, "Астана күні", "День столицы", "Capital Day"),
    Holiday(8, 30, "Конституция күні", "День Конституции", "Constitution Day"),
    Holiday(10, 25, "Республика күні", "День Республики", "Republic Day", since=2022),
    Holiday(
        12,
        1,
        "Тұңғыш Президент күні",
        "День Первого Президента",
        "First President's Day",
        since=2012,
        until=2021,
    ),
    Holiday(12, 16, "Тәуелсіздік күні", "День Независимости", "Independence Day"),
    Holiday(12, 17, "Тәуелсіздік күні", "День Независимости", "Independence Day", until=2021),
)

#: first day of Kurban Ait as announced for Kazakhstan (a day off; never moved)
KURBAN_AIT: dict[int, date] = {
    2019: date(2019, 8, 11),
    2020: date(2020, 7, 31),
    2021: date(2021, 7, 20),
    2022: date(2022, 7, 9),
    2023: date(2023, 6, 28),
    2024: date(2024, 6, 17),
    2025: date(2025, 6, 6),
    2026: date(2026, 5, 27),
    # provisional (astronomical forecast); replace when the ministry announces the day
    2027: date(2027, 5, 16),
}

#: Government decrees swapping a Saturday for a working day: year -> (days off, working days)
DECREE_TRANSFERS: dict[int, tuple[frozenset[date], frozenset[date]]] = {
    # Capital Day 2023: day off moved from Saturday 1 July to Friday 7 July
    2023: (frozenset({date(2023, 7, 7)}), frozenset({date(2023, 7, 1)})),
}


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


@lru_cache(maxsize=64)
def days_off(year: int) -> frozenset[date]:
    """Every non-working weekday-or-holiday date of ``year`` except plain weekends."""
    off: set[date] = set()
    transferable: list[date] = []
    for h in FIXED_HOLIDAYS:
        if not h.applies(year):
            continue
        d = date(year, h.month, h.day)
        off.add(d)
        if h.moves_off_weekend and _is_weekend(d):
            transferable.append(d)
    kurban = KURBAN_AIT.get(year)
    if kurban is not None:
        off.add(kurban)
    for d in sorted(transferable):
        moved = d + timedelta(days=1)
        while _is_weekend(moved) or moved in off:
            moved += timedelta(days=1)
        off.add(moved)
    extra_off, _ = DECREE_TRANSFERS.get(year, (frozenset(), frozenset()))
    off |= extra_off
    return frozenset(off)


def is_working_day(d: date) -> bool:
    _, extra_working = DECREE_TRANSFERS.get(d.year, (frozenset(), frozenset()))
    if d in extra_working:
        return True
    return not _is_weekend(d) and d not in days_off(d.year)


def local_date(at: datetime) -> date:
    """The Almaty calendar date of an instant."""
    return at.astimezone(ALMATY).date()


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (the start day itself does not count)."""
    if n < 1:
        raise ValueError("a term is at least one working day")
    d, counted = start, 0
    while counted < n:
        d += timedelta(days=1)
        if is_working_day(d):
            counted += 1
    return d


def due_at(submitted_at: datetime, working_days: int) -> datetime:
    """End (23:59:59 Almaty time) of the ``working_days``-th working day after submission.

    The term runs from the day after submission, so an application filed on a Friday
    evening or on a holiday does not lose a day.
    """
    last = add_working_days(local_date(submitted_at), working_days)
    return datetime.combine(last, END_OF_DAY, tzinfo=ALMATY).astimezone(UTC)


def working_days_between(first: date, last: date) -> int:
    """How many working days lie in ``first..last`` (both included)."""
    return sum(1 for d in _dates(first, last) if is_working_day(d))


def _dates(first: date, last: date) -> Iterable[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)
