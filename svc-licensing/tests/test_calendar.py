"""The Kazakh working-day calendar and due times (pure domain)."""

from datetime import UTC, date, datetime

import pytest

from meshkit.calendar import (
    ALMATY,
    add_working_days,
    days_off,
    due_at,
    is_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2026, 1, 1), "New Year"),
        (date(2026, 1, 2), "New Year"),
        (date(2026, 1, 7), "Orthodox Christmas"),
        (date(2026, 3, 9), "8 March 2026 is a Sunday: moved to Monday"),
        (date(2026, 3, 23), "Nauryz (Monday)"),
        (date(2026, 3, 24), "Nauryz 21 March (Saturday) moved to Tuesday"),
        (date(2026, 3, 25), "Nauryz 22 March (Sunday) moved to Wednesday"),
        (date(2026, 5, 11), "Victory Day 2026 is a Saturday: moved to Monday"),
        (date(2026, 5, 27), "Kurban Ait 2026"),
        (date(2025, 6, 6), "Kurban Ait 2025"),
        (date(2024, 6, 17), "Kurban Ait 2024"),
        (date(2025, 10, 27), "Republic Day 2025 is a Saturday: moved to Monday"),
        (date(2025, 3, 24), "Nauryz 2025: 22 March (Saturday) moved to Monday"),
        (date(2025, 3, 25), "Nauryz 2025: 23 March (Sunday) moved to Tuesday"),
        (date(2022, 1, 3), "New Year 2022 on a weekend: moved to Monday"),
        (date(2022, 1, 4), "… and Tuesday"),
        (date(2023, 7, 7), "Government decree: day off moved from Saturday 1 July"),
        (date(2026, 12, 16), "Independence Day"),
    ],
)
def test_days_off(day: date, why: str) -> None:
    assert not is_working_day(day), why


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2023, 1, 9), "Orthodox Christmas on Saturday 7 Jan 2023 is not moved"),
        (date(2025, 6, 9), "Kurban Ait is never moved: Monday after it is a working day"),
        (date(2022, 7, 11), "Kurban Ait 2022 fell on Saturday 9 July: not moved"),
        (date(2023, 7, 1), "a Saturday made a working day by decree"),
        (date(2026, 3, 20), "a plain Friday"),
        (date(2026, 12, 17), "17 December is no longer a holiday since 2022"),
        (date(2026, 12, 1), "First President's Day was abolished in 2022"),
    ],
)
def test_working_days(day: date, why: str) -> None:
    assert is_working_day(day), why


def test_weekends_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 11, 21)) and not is_working_day(date(2026, 11, 22))
    assert is_working_day(date(2026, 11, 23))


def test_term_counts_from_the_next_day_and_skips_the_nauryz_week() -> None:
    # Friday 20 March 2026; 21-25 March are off (weekend + Nauryz + two moved days)
    assert add_working_days(date(2026, 3, 20), 1) == date(2026, 3, 26)
    assert add_working_days(date(2026, 3, 20), 2) == date(2026, 3, 27)
    assert working_days_between(date(2026, 3, 20), date(2026, 3, 27)) == 3


def test_due_time_is_end_of_the_working_day_in_almaty() -> None:
    submitted = datetime(2026, 3, 20, 10, 0, tzinfo=ALMATY)
    due = due_at(submitted, 2)
    assert due == datetime(2026, 3, 27, 23, 59, 59, tzinfo=ALMATY)
    assert due.tzinfo == UTC and due == datetime(2026, 3, 27, 18, 59, 59, tzinfo=UTC)


def test_submission_late_evening_utc_is_already_the_next_day_in_almaty() -> None:
    # 20:00 UTC Thursday = 01:00 Friday in Almaty: the term starts after Friday
    submitted = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)
    assert due_at(submitted, 1) == datetime(2026, 11, 23, 23, 59, 59, tzinfo=ALMATY)


def test_kurban_ait_inside_a_term() -> None:
    # Friday 22 May 2026 + 3 working days: Mon 25, Tue 26, (Wed 27 Kurban Ait), Thu 28
    assert add_working_days(date(2026, 5, 22), 3) == date(2026, 5, 28)


def test_two_weekend_holidays_move_to_two_different_days() -> None:
    off = days_off(2022)
    assert {date(2022, 1, 3), date(2022, 1, 4)} <= off


def test_a_term_is_at_least_one_day() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), 0)
