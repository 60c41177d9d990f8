"""Tests of meshkit.ids: IIN/BIN check digit, parsing, generation and pydantic types."""

from __future__ import annotations

import pickle
import random
from datetime import date, timedelta
from typing import get_args

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from meshkit.ids import (
    BIN,
    EXAMPLE_BIN,
    EXAMPLE_IIN,
    IIN,
    BINInfo,
    BINKind,
    EntityType,
    IINInfo,
    IINOrBIN,
    InvalidIdentifier,
    Sex,
    check_digit,
    is_valid_bin,
    is_valid_iin,
    make_bin,
    make_iin,
    next_bin,
    next_iin,
    parse_bin,
    parse_identifier,
    parse_iin,
    random_bin,
    random_iin,
)

TODAY = date(2025, 6, 15)
UNCOMPUTABLE = (
    "the check digit cannot be computed for this number (remainder 10 twice): it is never issued"
)
W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)


def first_pass(first11: str) -> int:
    return sum(int(c) * w for c, w in zip(first11, W1, strict=True)) % 11


def with_check(first11: str) -> str:
    """Append the right check digit (test helper; first11 must be computable)."""
    digit = check_digit(first11)
    assert digit is not None
    return first11 + str(digit)


def with_wrong_check(first11: str) -> tuple[str, int, int]:
    digit = check_digit(first11)
    assert digit is not None
    wrong = (digit + 1) % 10
    return first11 + str(wrong), digit, wrong


def reason_of(exc: pytest.ExceptionInfo[InvalidIdentifier]) -> str:
    return exc.value.reason


# ---------------------------------------------------------------------------- check digit


@pytest.mark.parametrize(
    ("first11", "expected"),
    [
        ("90011530012", 2),
        ("00022950001", 8),
        ("15034000123", 6),
        ("90011530040", 1),  # first pass gives 10, fallback weights give 1
        ("90011530120", None),  # 10 with both weight sets: never issued
        ("00000000000", 0),
    ],
)
def test_check_digit_known_values(first11: str, expected: int | None) -> None:
    assert check_digit(first11) == expected


def test_check_digit_fallback_is_actually_used() -> None:
    assert first_pass("90011530040") == 10
    assert first_pass("90011530120") == 10


@pytest.mark.parametrize("bad", ["", "1234567890", "123456789012", "1234567890a", "١٢٣٤٥٦٧٨٩٠١"])
def test_check_digit_rejects_non_11_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="11 ASCII digits"):
        check_digit(bad)


# ---------------------------------------------------------------------------- IIN: valid


@pytest.mark.parametrize(
    ("iin", "birth_date", "sex", "century"),
    [
        ("900115300122", date(1990, 1, 15), "male", 20),
        ("050718600428", date(2005, 7, 18), "female", 21),
        ("000229500018", date(2000, 2, 29), "male", 21),  # 2000 is a leap year
        ("000229600034", date(2000, 2, 29), "female", 21),
        ("850314100070", date(1885, 3, 14), "male", 19),
        ("991231200017", date(1899, 12, 31), "female", 19),
        ("900115301211", date(1990, 1, 15), "male", 20),
    ],
)
def test_parse_valid_iin(iin: str, birth_date: date, sex: Sex, century: int) -> None:
    info = parse_iin(iin, today=TODAY)
    assert info == IINInfo(iin=iin, birth_date=birth_date, sex=sex, century=century)
    assert is_valid_iin(iin, today=TODAY)
    assert not is_valid_bin(iin, today=TODAY)


def test_iin_info_is_frozen_and_has_serial() -> None:
    info = parse_iin("900115301211")
    assert info.serial == 121
    with pytest.raises(AttributeError):
        info.sex = "female"  # type: ignore[misc]


def test_birth_date_today_is_valid_and_tomorrow_is_not() -> None:
    iin, _ = next_iin(TODAY, "female", today=TODAY)
    assert parse_iin(iin, today=TODAY).birth_date == TODAY
    with pytest.raises(InvalidIdentifier) as exc:
        parse_iin(iin, today=TODAY - timedelta(days=1))
    assert reason_of(exc) == "IIN birth date is in the future"


# ---------------------------------------------------------------------------- IIN: invalid


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "IIN must be exactly 12 digits"),
        ("90011530012", "IIN must be exactly 12 digits"),
        ("9001153001220", "IIN must be exactly 12 digits"),
        ("90011530012a", "IIN must be exactly 12 digits"),
        (" 900115300122", "IIN must be exactly 12 digits"),
        ("900115300122\n", "IIN must be exactly 12 digits"),
        ("900-115-300-122", "IIN must be exactly 12 digits"),
        ("٩٠٠١١٥٣٠٠١٢٢", "IIN must be exactly 12 digits"),  # Arabic-Indic digits
        ("900115300123", "IIN check digit is wrong: expected 2, got 3"),
        ("900115000122", "IIN century/sex digit (7th) must be 1–6, got 0"),
        ("900115700122", "IIN century/sex digit (7th) must be 1–6, got 7"),
        ("900115900122", "IIN century/sex digit (7th) must be 1–6, got 9"),
        ("990231300122", "IIN birth date 990231 is not a real date"),
        ("991301300122", "IIN birth date 991301 is not a real date"),
        ("990100300122", "IIN birth date 990100 is not a real date"),
        ("990431300122", "IIN birth date 990431 is not a real date"),
        ("000229300122", "IIN birth date 000229 is not a real date"),  # 1900 is not leap
        ("000229400122", "IIN birth date 000229 is not a real date"),
        ("000229100122", "IIN birth date 000229 is not a real date"),  # 1800 is not leap
        ("300101600122", "IIN birth date is in the future"),  # 2030-01-01
        ("900115301200", UNCOMPUTABLE),  # 1990-01-15 male, serial 0120
        ("900115301205", UNCOMPUTABLE),
    ],
)
def test_invalid_iin_reasons(value: str, reason: str) -> None:
    if reason == UNCOMPUTABLE:
        assert check_digit(value[:11]) is None
    with pytest.raises(InvalidIdentifier) as exc:
        parse_iin(value, today=TODAY)
    assert exc.value.kind == "IIN"
    assert reason_of(exc) == reason
    assert str(exc.value) == reason
    assert isinstance(exc.value, ValueError)
    assert not is_valid_iin(value, today=TODAY)


def test_wrong_check_digit_is_reported_with_expected_and_got() -> None:
    value, expected, got = with_wrong_check("05071860042")
    with pytest.raises(InvalidIdentifier) as exc:
        parse_iin(value, today=TODAY)
    assert reason_of(exc) == f"IIN check digit is wrong: expected {expected}, got {got}"


CENTURY_BASE = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


@pytest.mark.parametrize("yy", ["04", "96", "00"])
def test_leap_day_depends_on_century_digit(yy: str) -> None:
    # 1804/1904/2004, 1896/1996 are leap; 1800 and 1900 are not, 2000 is; 2096 is future.
    for century_digit, base in CENTURY_BASE.items():
        full_year = base + int(yy)
        is_leap = full_year % 4 == 0 and (full_year % 100 != 0 or full_year % 400 == 0)
        first11, digit = next(
            (f"{yy}0229{century_digit}{serial:04d}", d)
            for serial in range(10)
            if (d := check_digit(f"{yy}0229{century_digit}{serial:04d}")) is not None
        )
        assert is_valid_iin(f"{first11}{digit}", today=TODAY) == (
            is_leap and full_year <= TODAY.year
        ), full_year


def test_non_string_input_is_rejected_cleanly() -> None:
    for value in (None, 900115300122, b"900115300122", ["900115300122"]):
        assert not is_valid_iin(value)
        assert not is_valid_bin(value)
        with pytest.raises(InvalidIdentifier):
            parse_iin(value)  # type: ignore[arg-type]


def test_invalid_identifier_pickles() -> None:
    err = InvalidIdentifier("BIN", "BIN month 13 is not 01–12")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.kind, copy.reason, str(copy)) == ("BIN", "BIN month 13 is not 01–12", err.reason)


# ---------------------------------------------------------------------------- IIN: generation


def test_make_iin_known() -> None:
    assert make_iin(date(1990, 1, 15), "male", 12) == "900115300122"
    assert make_iin(date(2005, 7, 18), "female", 42) == "050718600428"
    assert make_iin(date(1885, 3, 14), "male", 7) == "850314100070"
    assert make_iin(date(1990, 1, 15), "male", 120) is None  # uncomputable serial


def test_next_iin_skips_uncomputable_serials() -> None:
    assert next_iin(date(1990, 1, 15), "male", 120) == ("900115301211", 121)
    assert next_iin(date(1990, 1, 15), "male") == (make_iin(date(1990, 1, 15), "male", 0), 0)


def test_next_iin_exhaustion() -> None:
    assert make_iin(date(1990, 3, 22), "male", 9999) is None
    with pytest.raises(ValueError, match="exhausted"):
        next_iin(date(1990, 3, 22), "male", 9999)
    with pytest.raises(ValueError, match="exhausted"):
        next_iin(date(1990, 3, 22), "male", 10_000)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"birth_date": date(1799, 12, 31), "sex": "male", "serial": 0}, "between"),
        ({"birth_date": date(2030, 1, 1), "sex": "male", "serial": 0}, "future"),
        ({"birth_date": date(1990, 1, 1), "sex": "other", "serial": 0}, "sex"),
        ({"birth_date": date(1990, 1, 1), "sex": "male", "serial": -1}, "serial"),
        ({"birth_date": date(1990, 1, 1), "sex": "male", "serial": 10_000}, "serial"),
    ],
)
def test_make_iin_rejects_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_iin(**kwargs, today=TODAY)  # type: ignore[arg-type]


def test_random_iin_is_valid_and_deterministic() -> None:
    a = [random_iin(random.Random(7), today=TODAY) for _ in range(3)]
    assert len(set(a)) == 1
    rng = random.Random(42)
    for _ in range(300):
        assert is_valid_iin(random_iin(rng, today=TODAY), today=TODAY)
    iin = random_iin(rng, birth_date=date(1977, 5, 9), sex="female", today=TODAY)
    info = parse_iin(iin, today=TODAY)
    assert (info.birth_date, info.sex) == (date(1977, 5, 9), "female")


# ---------------------------------------------------------------------------- BIN


@pytest.mark.parametrize(
    ("bin_", "year", "month", "entity_type", "kind"),
    [
        ("150340001236", 2015, 3, "resident", "head"),
        ("150351000019", 2015, 3, "non_resident", "branch"),
        ("150362000073", 2015, 3, "individual_entrepreneur", "representative"),
    ],
)
def test_parse_valid_bin(
    bin_: str, year: int, month: int, entity_type: EntityType, kind: BINKind
) -> None:
    info = parse_bin(bin_, today=TODAY)
    assert info == BINInfo(
        bin=bin_, registered_year=year, registered_month=month, entity_type=entity_type, kind=kind
    )
    assert is_valid_bin(bin_, today=TODAY)
    assert not is_valid_iin(bin_, today=TODAY)
    assert make_bin(year, month, entity_type, kind, info.serial, today=TODAY) == bin_


@pytest.mark.parametrize(
    ("yymm", "year"),
    [("2506", 2025), ("2507", 1925), ("9901", 1999), ("0001", 2000), ("2412", 2024)],
)
def test_bin_year_century(yymm: str, year: int) -> None:
    bin_ = with_check(f"{yymm}4000001")
    assert parse_bin(bin_, today=TODAY).registered_year == year


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("15034000123", "BIN must be exactly 12 digits"),
        ("15034000123x", "BIN must be exactly 12 digits"),
        ("150340001237", "BIN check digit is wrong: expected 6, got 7"),
        ("151340001236", "BIN month 13 is not 01–12"),
        ("150040001236", "BIN month 00 is not 01–12"),
        ("150390001236", "BIN entity type digit (5th) must be 4, 5 or 6, got 9"),
        ("150330001236", "BIN entity type digit (5th) must be 4, 5 or 6, got 3"),
        ("150347001236", "BIN kind digit (6th) must be 0, 1 or 2, got 7"),
    ],
)
def test_invalid_bin_reasons(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        parse_bin(value, today=TODAY)
    assert exc.value.kind == "BIN"
    assert reason_of(exc) == reason
    assert not is_valid_bin(value, today=TODAY)


def test_bin_uncomputable() -> None:
    assert make_bin(2010, 2, "individual_entrepreneur", "branch", 99999, today=TODAY) is None
    value = "100261999990"
    assert check_digit(value[:11]) is None
    with pytest.raises(InvalidIdentifier) as exc:
        parse_bin(value, today=TODAY)
    assert reason_of(exc) == UNCOMPUTABLE


def test_next_bin() -> None:
    bin_, serial = next_bin(2010, 2, "individual_entrepreneur", "branch", 99998, today=TODAY)
    assert serial == 99998 and parse_bin(bin_, today=TODAY).serial == 99998
    with pytest.raises(ValueError, match="exhausted"):
        next_bin(2010, 2, "individual_entrepreneur", "branch", 99999, today=TODAY)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((2015, 13, "resident", "head", 0), "month"),
        ((2015, 0, "resident", "head", 0), "month"),
        ((2025, 7, "resident", "head", 0), "future"),
        ((1925, 6, "resident", "head", 0), "100 years"),
        ((2015, 3, "foreign", "head", 0), "entity type"),
        ((2015, 3, "resident", "subsidiary", 0), "kind"),
        ((2015, 3, "resident", "head", 100_000), "serial"),
        ((2015, 3, "resident", "head", -1), "serial"),
    ],
)
def test_make_bin_rejects_bad_arguments(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_bin(*args, today=TODAY)  # type: ignore[arg-type]


def test_make_bin_oldest_representable_month() -> None:
    bin_ = make_bin(1925, 7, "resident", "head", 1, today=TODAY) or make_bin(
        1925, 7, "resident", "head", 2, today=TODAY
    )
    assert bin_ is not None
    assert parse_bin(bin_, today=TODAY).registered_year == 1925


def test_random_bin() -> None:
    rng = random.Random(3)
    for _ in range(300):
        assert is_valid_bin(random_bin(rng, today=TODAY), today=TODAY)
    info = parse_bin(random_bin(rng, month=11, today=TODAY), today=TODAY)
    assert info.registered_month == 11 and 2000 <= info.registered_year <= 2024
    info = parse_bin(random_bin(rng, year=2025, today=TODAY), today=TODAY)
    assert info.registered_year == 2025 and info.registered_month <= 6
    info = parse_bin(
        random_bin(rng, year=2001, month=2, entity_type="non_resident", kind="branch", today=TODAY),
        today=TODAY,
    )
    assert (info.registered_year, info.registered_month, info.entity_type, info.kind) == (
        2001,
        2,
        "non_resident",
        "branch",
    )
    with pytest.raises(ValueError):
        random_bin(rng, year=2025, month=12, today=TODAY)


# ---------------------------------------------------------------------------- IIN or BIN


def test_parse_identifier() -> None:
    assert isinstance(parse_identifier("900115300122"), IINInfo)
    assert isinstance(parse_identifier("150340001236"), BINInfo)
    with pytest.raises(InvalidIdentifier) as exc:
        parse_identifier("150340001237")  # looks like a BIN (5th digit 4)
    assert (exc.value.kind, exc.value.reason) == (
        "BIN",
        "BIN check digit is wrong: expected 6, got 7",
    )
    with pytest.raises(InvalidIdentifier) as exc:
        parse_identifier("900115300123")
    assert (exc.value.kind, exc.value.reason) == (
        "IIN",
        "IIN check digit is wrong: expected 2, got 3",
    )
    with pytest.raises(InvalidIdentifier) as exc:
        parse_identifier("990231300122")
    assert exc.value.reason == "IIN birth date 990231 is not a real date"
    with pytest.raises(InvalidIdentifier) as exc:
        parse_identifier("150390001236")  # 5th digit 9: neither; IIN reason
    assert exc.value.kind == "IIN"
    with pytest.raises(InvalidIdentifier) as exc:
        parse_identifier("12345")
    assert exc.value.reason == "IIN/BIN must be exactly 12 digits"


# ---------------------------------------------------------------------------- properties

dates = st.dates(min_value=date(1800, 1, 1), max_value=TODAY)
sexes = st.sampled_from(get_args(Sex))
entity_types = st.sampled_from(get_args(EntityType))
bin_kinds = st.sampled_from(get_args(BINKind))
# registration months that parse back unambiguously relative to TODAY: (1925-07 .. 2025-06)
bin_months = st.integers(
    min_value=(TODAY.year - 100) * 12 + TODAY.month, max_value=TODAY.year * 12 + TODAY.month - 1
).map(lambda index: (index // 12, index % 12 + 1))


@given(birth_date=dates, sex=sexes, serial=st.integers(0, 9999))
def test_generated_iin_parses_back(birth_date: date, sex: Sex, serial: int) -> None:
    iin = make_iin(birth_date, sex, serial, today=TODAY)
    century_digit = (birth_date.year // 100 - 18) * 2 + (1 if sex == "male" else 2)
    prefix = f"{birth_date:%y%m%d}{century_digit}{serial:04d}"
    if iin is None:
        assert check_digit(prefix) is None
        return
    assert iin == f"{prefix}{check_digit(prefix)}"
    info = parse_iin(iin, today=TODAY)
    assert info.birth_date == birth_date
    assert info.sex == sex
    assert info.century == birth_date.year // 100 + 1
    assert info.serial == serial
    assert (int(iin[6]) % 2 == 1) == (sex == "male")


@given(birth_date=dates, sex=sexes, start=st.integers(0, 9999))
def test_next_iin_finds_first_valid(birth_date: date, sex: Sex, start: int) -> None:
    try:
        iin, serial = next_iin(birth_date, sex, start, today=TODAY)
    except ValueError:
        assert all(make_iin(birth_date, sex, s, today=TODAY) is None for s in range(start, 10000))
        return
    assert serial >= start
    assert all(make_iin(birth_date, sex, s, today=TODAY) is None for s in range(start, serial))
    assert parse_iin(iin, today=TODAY).serial == serial


@given(month=bin_months, entity_type=entity_types, kind=bin_kinds, serial=st.integers(0, 99999))
def test_generated_bin_parses_back(
    month: tuple[int, int], entity_type: EntityType, kind: BINKind, serial: int
) -> None:
    year, mm = month
    bin_ = make_bin(year, mm, entity_type, kind, serial, today=TODAY)
    if bin_ is None:
        return
    info = parse_bin(bin_, today=TODAY)
    assert (info.registered_year, info.registered_month) == (year, mm)
    assert (info.entity_type, info.kind, info.serial) == (entity_type, kind, serial)


valid_iins = st.builds(
    lambda d, s, n: make_iin(d, s, n, today=TODAY), dates, sexes, st.integers(0, 9999)
).filter(lambda v: v is not None)
valid_bins = st.builds(
    lambda m, t, k, n: make_bin(m[0], m[1], t, k, n, today=TODAY),
    bin_months,
    entity_types,
    bin_kinds,
    st.integers(0, 99999),
).filter(lambda v: v is not None)


def _substitute(value: str, position: int, digit: str) -> str:
    return value[:position] + digit + value[position + 1 :]


@settings(max_examples=300)
@given(
    value=st.one_of(valid_iins, valid_bins),
    position=st.integers(0, 11),
    digit=st.sampled_from("0123456789"),
)
def test_single_digit_substitution(value: str, position: int, digit: str) -> None:
    """What the official check digit does and does not detect.

    * a change of the check digit itself is always detected;
    * a change of digits 1–10 is always detected when neither the original nor the changed
      number needs the fallback weights (first-pass remainder 10);
    * a change of digit 11 is *never* detected when the first pass is not 10: its first-pass
      weight is 11 ≡ 0 (mod 11) — a known property of the official algorithm.
    In every case a changed number is either rejected or a *different* identifier
    (for an IIN the birth date/sex/serial, for a BIN the registration/type/kind/serial).
    """
    assume(value[position] != digit)
    changed = _substitute(value, position, digit)
    digit_ok = check_digit(changed[:11]) == int(changed[11])
    if position == 11:
        assert not digit_ok
    elif position == 10:
        if first_pass(value[:11]) != 10:
            assert digit_ok
    elif first_pass(value[:11]) != 10 and first_pass(changed[:11]) != 10:
        assert not digit_ok
    original = parse_identifier(value, today=TODAY)
    try:
        parsed = parse_identifier(changed, today=TODAY)
    except InvalidIdentifier:
        return
    assert digit_ok
    assert parsed != original
    if isinstance(original, IINInfo) and isinstance(parsed, IINInfo):
        assert (parsed.birth_date, parsed.sex, parsed.serial) != (
            original.birth_date,
            original.sex,
            original.serial,
        )


def test_digit_11_blind_spot_example() -> None:
    # 900115300122 and 900115300132 differ only in the 11th digit and are both valid.
    assert first_pass("90011530012") != 10
    assert is_valid_iin("900115300122") and is_valid_iin("900115300132")


@given(st.text())
def test_parsers_only_raise_invalid_identifier_on_text(text: str) -> None:
    for parse in (parse_iin, parse_bin, parse_identifier):
        try:
            parse(text, today=TODAY)
        except InvalidIdentifier as exc:
            assert exc.reason and exc.kind in ("IIN", "BIN")
    assert isinstance(is_valid_iin(text), bool)
    assert isinstance(is_valid_bin(text), bool)


@given(st.from_regex(r"[0-9]{12}", fullmatch=True))
def test_parsers_only_raise_invalid_identifier_on_digits(text: str) -> None:
    for parse in (parse_iin, parse_bin, parse_identifier):
        try:
            parse(text, today=TODAY)
        except InvalidIdentifier as exc:
            assert exc.reason


# ---------------------------------------------------------------------------- pydantic


class Applicant(BaseModel):
    iin: IIN
    company: BIN
    party: IINOrBIN


def test_pydantic_accepts_valid() -> None:
    model = Applicant(iin="900115300122", company="150340001236", party="150340001236")
    assert model.iin == "900115300122"
    assert (
        Applicant.model_validate_json(
            '{"iin": "050718600428", "company": "150351000019", "party": "050718600428"}'
        ).party
        == "050718600428"
    )


@pytest.mark.parametrize(
    ("field", "value", "error_type", "reason"),
    [
        ("iin", "900115300123", "invalid_iin", "IIN check digit is wrong: expected 2, got 3"),
        ("iin", "990231300122", "invalid_iin", "IIN birth date 990231 is not a real date"),
        ("iin", "12", "invalid_iin", "IIN must be exactly 12 digits"),
        ("company", "151340001236", "invalid_bin", "BIN month 13 is not 01–12"),
        ("company", "150347001236", "invalid_bin", "BIN kind digit (6th) must be 0, 1 or 2, got 7"),
        (
            "party",
            "150390001236",
            "invalid_iin_or_bin",
            "IIN century/sex digit (7th) must be 1–6, got 0",
        ),
        (
            "party",
            "150340001237",
            "invalid_iin_or_bin",
            "BIN check digit is wrong: expected 6, got 7",
        ),
        ("party", "x", "invalid_iin_or_bin", "IIN/BIN must be exactly 12 digits"),
    ],
)
def test_pydantic_rejects_with_reason(field: str, value: str, error_type: str, reason: str) -> None:
    data = {"iin": "900115300122", "company": "150340001236", "party": "900115300122"}
    data[field] = value
    with pytest.raises(ValidationError) as exc:
        Applicant.model_validate(data)
    (error,) = exc.value.errors()
    assert error["loc"] == (field,)
    assert error["type"] == error_type
    assert error["msg"] == reason
    assert reason in str(exc.value)


def test_pydantic_rejects_non_strings() -> None:
    with pytest.raises(ValidationError) as exc:
        TypeAdapter(IIN).validate_python(900115300122)
    assert exc.value.errors()[0]["type"] == "string_type"


@given(st.text())
def test_pydantic_never_crashes(text: str) -> None:
    try:
        TypeAdapter(IINOrBIN).validate_python(text)
    except ValidationError as exc:
        assert exc.errors()[0]["type"] == "invalid_iin_or_bin"


def test_json_schema_documents_pattern_and_example() -> None:
    schema = Applicant.model_json_schema()
    props = schema["properties"]
    for name in ("iin", "company", "party"):
        assert props[name]["pattern"] == "^[0-9]{12}$"
        assert props[name]["type"] == "string"
        assert props[name]["examples"]
    assert props["iin"]["examples"] == [EXAMPLE_IIN]
    assert props["company"]["examples"] == [EXAMPLE_BIN]
    assert is_valid_iin(EXAMPLE_IIN) and is_valid_bin(EXAMPLE_BIN)
    assert TypeAdapter(BIN).json_schema(mode="serialization")["pattern"] == "^[0-9]{12}$"


async def test_fastapi_422_shows_the_reason() -> None:
    app = FastAPI()

    @app.post("/applicants")
    async def create(applicant: Applicant) -> dict[str, str]:
        return {"iin": applicant.iin}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ok = await client.post(
            "/applicants",
            json={"iin": "900115300122", "company": "150340001236", "party": "900115300122"},
        )
        bad = await client.post(
            "/applicants",
            json={"iin": "900115300123", "company": "150340001236", "party": "900115300122"},
        )
    assert ok.status_code == 200
    assert bad.status_code == 422
    (detail,) = bad.json()["detail"]
    assert detail["msg"] == "IIN check digit is wrong: expected 2, got 3"
    assert detail["loc"] == ["body", "iin"]
    schema = app.openapi()["components"]["schemas"]["Applicant"]["properties"]["iin"]
    assert schema["pattern"] == "^[0-9]{12}$" and schema["examples"] == [EXAMPLE_IIN]
