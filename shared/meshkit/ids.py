"""Kazakh IIN / BIN: validation, parsing and generation.

Both identifiers are 12 ASCII digits whose 12th digit is the official mod-11 check digit:

* ``r = sum(d_i * i for i in 1..11) mod 11``;
* if ``r == 10``: ``r = sum(d_i * w_i) mod 11`` with ``w = 3,4,5,6,7,8,9,10,11,1,2``;
* if it is 10 again the number is never issued (invalid), otherwise ``d12 = r``.

IIN (individual): ``YYMMDD`` birth date, a century/sex digit (1/2 → 1800s, 3/4 → 1900s,
5/6 → 2000s; odd = male, even = female), a 4-digit serial and the check digit.

BIN (business): ``YYMM`` registration year/month, an entity type digit (4 resident,
5 non-resident, 6 individual entrepreneur (joint venture)), a kind digit (0 head organisation,
1 branch, 2 representative office), a 5-digit serial and the check digit.

Note on error detection: the weight of the 11th digit in the first pass is 11 ≡ 0 (mod 11),
so a change of the 11th digit alone is *not* detected whenever the first pass does not give
10; a substitution of one of digits 1–10 is detected unless the fallback weights are involved
(≈1.7 % of substitutions slip through that way). This is a property of the official algorithm.

Pydantic v2 annotated types :data:`IIN`, :data:`BIN` and :data:`IINOrBIN` are provided for
request models; their validation error message is exactly the human-readable ``reason``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Final, Literal, get_args

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "BIN",
    "BIN_SERIAL_MAX",
    "EXAMPLE_BIN",
    "EXAMPLE_IIN",
    "IIN",
    "IIN_SERIAL_MAX",
    "BINInfo",
    "BINKind",
    "EntityType",
    "IINInfo",
    "IINOrBIN",
    "IdentifierKind",
    "InvalidIdentifier",
    "Sex",
    "check_digit",
    "is_valid_bin",
    "is_valid_iin",
    "make_bin",
    "make_iin",
    "next_bin",
    "next_iin",
    "parse_bin",
    "parse_identifier",
    "parse_iin",
    "random_bin",
    "random_iin",
]

IdentifierKind = Literal["IIN", "BIN"]
Sex = Literal["male", "female"]
EntityType = Literal["resident", "non_resident", "individual_entrepreneur"]
BINKind = Literal["head", "branch", "representative"]

_WEIGHTS_1: Final = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2: Final = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_DIGITS_11: Final = re.compile(r"[0-9]{11}")
_DIGITS_12: Final = re.compile(r"[0-9]{12}")

IIN_SERIAL_MAX: Final = 9999
BIN_SERIAL_MAX: Final = 99999

_UNCOMPUTABLE_REASON: Final = (
    "the check digit cannot be computed for this number (remainder 10 twice): it is never issued"
)

# century digit -> (first year of the century, sex)
_CENTURY_DIGITS: Final[dict[str, tuple[int, Sex]]] = {
    "1": (1800, "male"),
    "2": (1800, "female"),
    "3": (1900, "male"),
    "4": (1900, "female"),
    "5": (2000, "male"),
    "6": (2000, "female"),
}
_ENTITY_DIGITS: Final[dict[str, EntityType]] = {
    "4": "resident",
    "5": "non_resident",
    "6": "individual_entrepreneur",
}
_KIND_DIGITS: Final[dict[str, BINKind]] = {
    "0": "head",
    "1": "branch",
    "2": "representative",
}
_ENTITY_TO_DIGIT: Final = {v: k for k, v in _ENTITY_DIGITS.items()}
_KIND_TO_DIGIT: Final = {v: k for k, v in _KIND_DIGITS.items()}

_MIN_BIRTH_DATE: Final = date(1800, 1, 1)
_MAX_BIRTH_DATE: Final = date(2099, 12, 31)


class InvalidIdentifier(ValueError):
    """An IIN/BIN failed validation; ``reason`` is a sentence fit to show to a human."""

    kind: IdentifierKind
    reason: str

    def __init__(self, kind: IdentifierKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason

    def __reduce__(self) -> tuple[type[InvalidIdentifier], tuple[IdentifierKind, str]]:
        return (type(self), (self.kind, self.reason))


# --------------------------------------------------------------------------------------------
# check digit
# --------------------------------------------------------------------------------------------


def check_digit(first11: str) -> int | None:
    """The check digit for the first 11 digits, or ``None`` if it cannot be computed.

    Raises :class:`ValueError` if ``first11`` is not exactly 11 ASCII digits.
    """
    if not isinstance(first11, str) or _DIGITS_11.fullmatch(first11) is None:
        raise ValueError("check_digit() needs exactly 11 ASCII digits")
    digits = [ord(c) - 48 for c in first11]
    remainder = sum(d * w for d, w in zip(digits, _WEIGHTS_1, strict=True)) % 11
    if remainder == 10:
        remainder = sum(d * w for d, w in zip(digits, _WEIGHTS_2, strict=True)) % 11
        if remainder == 10:
            return None
    return remainder


def _verify_check_digit(kind: IdentifierKind, value: str) -> None:
    expected = check_digit(value[:11])
    if expected is None:
        raise InvalidIdentifier(kind, _UNCOMPUTABLE_REASON)
    got = ord(value[11]) - 48
    if expected != got:
        raise InvalidIdentifier(
            kind, f"{kind} check digit is wrong: expected {expected}, got {got}"
        )


def _require_12_digits(kind: IdentifierKind, value: object) -> str:
    if not isinstance(value, str) or _DIGITS_12.fullmatch(value) is None:
        raise InvalidIdentifier(kind, f"{kind} must be exactly 12 digits")
    return value


def _complete(first11: str) -> str | None:
    digit = check_digit(first11)
    return None if digit is None else f"{first11}{digit}"


# --------------------------------------------------------------------------------------------
# IIN
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IINInfo:
    """A parsed IIN. ``century`` is the ordinal century of birth: 19 (1800s), 20 (1900s),
    21 (2000s)."""

    iin: str
    birth_date: date
    sex: Sex
    century: int

    @property
    def serial(self) -> int:
        """Digits 8–11 as an integer."""
        return int(self.iin[7:11])


def parse_iin(value: str, *, today: date | None = None) -> IINInfo:
    """Validate and parse an IIN; raise :class:`InvalidIdentifier` with a reason otherwise.

    ``today`` (default: ``date.today()``) is used to reject birth dates in the future.
    """
    iin = _require_12_digits("IIN", value)
    century_digit = iin[6]
    if century_digit not in _CENTURY_DIGITS:
        raise InvalidIdentifier(
            "IIN", f"IIN century/sex digit (7th) must be 1–6, got {century_digit}"
        )
    base_year, sex = _CENTURY_DIGITS[century_digit]
    try:
        birth_date = date(base_year + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise InvalidIdentifier("IIN", f"IIN birth date {iin[0:6]} is not a real date") from None
    if birth_date > (today if today is not None else date.today()):
        raise InvalidIdentifier("IIN", "IIN birth date is in the future")
    _verify_check_digit("IIN", iin)
    return IINInfo(iin=iin, birth_date=birth_date, sex=sex, century=base_year // 100 + 1)


def is_valid_iin(s: object, *, today: date | None = None) -> bool:
    """True if ``s`` is a valid IIN (never raises)."""
    try:
        parse_iin(s, today=today)  # type: ignore[arg-type]  # any object is rejected cleanly
    except InvalidIdentifier:
        return False
    return True


def _iin_prefix(birth_date: date, sex: Sex, serial: int, today: date | None) -> str:
    if not isinstance(birth_date, date):
        raise TypeError("birth_date must be a datetime.date")
    if sex not in ("male", "female"):
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    if not _MIN_BIRTH_DATE <= birth_date <= _MAX_BIRTH_DATE:
        raise ValueError("IIN birth date must be between 1800-01-01 and 2099-12-31")
    if birth_date > (today if today is not None else date.today()):
        raise ValueError("IIN birth date must not be in the future")
    if not 0 <= serial <= IIN_SERIAL_MAX:
        raise ValueError(f"IIN serial must be 0..{IIN_SERIAL_MAX}, got {serial}")
    century_digit = (birth_date.year // 100 - 18) * 2 + (1 if sex == "male" else 2)
    return f"{birth_date:%y%m%d}{century_digit}{serial:04d}"


def make_iin(birth_date: date, sex: Sex, serial: int, *, today: date | None = None) -> str | None:
    """The IIN for these fields, or ``None`` if this serial's check digit is uncomputable.

    Raises :class:`ValueError` for a birth date outside 1800–2099 or in the future, an unknown
    sex or a serial outside 0..9999.
    """
    return _complete(_iin_prefix(birth_date, sex, serial, today))


def next_iin(
    birth_date: date, sex: Sex, start_serial: int = 0, *, today: date | None = None
) -> tuple[str, int]:
    """The first valid IIN with serial >= ``start_serial`` and that serial.

    Raises :class:`ValueError` when no serial up to 9999 is left.
    """
    if start_serial < 0:
        raise ValueError(f"IIN serial must be 0..{IIN_SERIAL_MAX}, got {start_serial}")
    for serial in range(start_serial, IIN_SERIAL_MAX + 1):
        iin = make_iin(birth_date, sex, serial, today=today)
        if iin is not None:
            return iin, serial
    raise ValueError(f"IIN serials exhausted for {birth_date.isoformat()} ({sex})")


def random_iin(
    rng: random.Random,
    *,
    birth_date: date | None = None,
    sex: Sex | None = None,
    earliest: date = date(1930, 1, 1),
    today: date | None = None,
) -> str:
    """A random valid IIN for synthetic data (birth date uniform in ``earliest``..today
    unless given, sex uniform unless given)."""
    today = today if today is not None else date.today()
    if birth_date is None:
        span = (today - earliest).days
        if span < 0:
            raise ValueError("earliest must not be after today")
        birth_date = earliest + timedelta(days=rng.randint(0, span))
    chosen_sex: Sex = sex if sex is not None else rng.choice(("male", "female"))
    while True:
        iin = make_iin(birth_date, chosen_sex, rng.randint(0, IIN_SERIAL_MAX), today=today)
        if iin is not None:
            return iin


# --------------------------------------------------------------------------------------------
# BIN
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BINInfo:
    """A parsed BIN."""

    bin: str
    registered_year: int
    registered_month: int
    entity_type: EntityType
    kind: BINKind

    @property
    def serial(self) -> int:
        """Digits 7–11 as an integer."""
        return int(self.bin[6:11])


def _bin_full_year(yy: int, month: int, today: date) -> int:
    """YY → 2000+YY unless that (year, month) is in the future, else 1900+YY."""
    return 2000 + yy if (2000 + yy, month) <= (today.year, today.month) else 1900 + yy


def parse_bin(value: str, *, today: date | None = None) -> BINInfo:
    """Validate and parse a BIN; raise :class:`InvalidIdentifier` with a reason otherwise.

    ``today`` (default: ``date.today()``) decides the century of the registration year.
    """
    bin_ = _require_12_digits("BIN", value)
    month_text = bin_[2:4]
    month = int(month_text)
    if not 1 <= month <= 12:
        raise InvalidIdentifier("BIN", f"BIN month {month_text} is not 01–12")
    entity_digit = bin_[4]
    if entity_digit not in _ENTITY_DIGITS:
        raise InvalidIdentifier(
            "BIN", f"BIN entity type digit (5th) must be 4, 5 or 6, got {entity_digit}"
        )
    kind_digit = bin_[5]
    if kind_digit not in _KIND_DIGITS:
        raise InvalidIdentifier("BIN", f"BIN kind digit (6th) must be 0, 1 or 2, got {kind_digit}")
    _verify_check_digit("BIN", bin_)
    year = _bin_full_year(int(bin_[0:2]), month, today if today is not None else date.today())
    return BINInfo(
        bin=bin_,
        registered_year=year,
        registered_month=month,
        entity_type=_ENTITY_DIGITS[entity_digit],
        kind=_KIND_DIGITS[kind_digit],
    )


def is_valid_bin(s: object, *, today: date | None = None) -> bool:
    """True if ``s`` is a valid BIN (never raises)."""
    try:
        parse_bin(s, today=today)  # type: ignore[arg-type]  # any object is rejected cleanly
    except InvalidIdentifier:
        return False
    return True


def _bin_prefix(
    year: int,
    month: int,
    entity_type: EntityType,
    kind: BINKind,
    serial: int,
    today: date | None,
) -> str:
    today = today if today is not None else date.today()
    if not 1 <= month <= 12:
        raise ValueError(f"BIN month must be 1..12, got {month}")
    if (year, month) > (today.year, today.month):
        raise ValueError("BIN registration month must not be in the future")
    if (year, month) <= (today.year - 100, today.month):
        # parse_bin would read YY back as the more recent century
        raise ValueError("BIN registration month must be within the last 100 years")
    if entity_type not in _ENTITY_TO_DIGIT:
        raise ValueError(
            f"BIN entity type must be one of {get_args(EntityType)}, got {entity_type!r}"
        )
    if kind not in _KIND_TO_DIGIT:
        raise ValueError(f"BIN kind must be one of {get_args(BINKind)}, got {kind!r}")
    if not 0 <= serial <= BIN_SERIAL_MAX:
        raise ValueError(f"BIN serial must be 0..{BIN_SERIAL_MAX}, got {serial}")
    return (
        f"{year % 100:02d}{month:02d}{_ENTITY_TO_DIGIT[entity_type]}{_KIND_TO_DIGIT[kind]}"
        f"{serial:05d}"
    )


def make_bin(
    year: int,
    month: int,
    entity_type: EntityType,
    kind: BINKind,
    serial: int,
    *,
    today: date | None = None,
) -> str | None:
    """The BIN for these fields, or ``None`` if this serial's check digit is uncomputable.

    ``year`` is the full year. Raises :class:`ValueError` for a month outside 1..12, a
    registration month in the future or 100+ years ago (it would not parse back), an unknown
    entity type/kind or a serial outside 0..99999.
    """
    return _complete(_bin_prefix(year, month, entity_type, kind, serial, today))


def next_bin(
    year: int,
    month: int,
    entity_type: EntityType,
    kind: BINKind,
    start_serial: int = 0,
    *,
    today: date | None = None,
) -> tuple[str, int]:
    """The first valid BIN with serial >= ``start_serial`` and that serial.

    Raises :class:`ValueError` when no serial up to 99999 is left.
    """
    if start_serial < 0:
        raise ValueError(f"BIN serial must be 0..{BIN_SERIAL_MAX}, got {start_serial}")
    for serial in range(start_serial, BIN_SERIAL_MAX + 1):
        bin_ = make_bin(year, month, entity_type, kind, serial, today=today)
        if bin_ is not None:
            return bin_, serial
    raise ValueError(f"BIN serials exhausted for {year}-{month:02d} ({entity_type}, {kind})")


def random_bin(
    rng: random.Random,
    *,
    year: int | None = None,
    month: int | None = None,
    entity_type: EntityType | None = None,
    kind: BINKind | None = None,
    earliest_year: int = 2000,
    today: date | None = None,
) -> str:
    """A random valid BIN for synthetic data (registration month uniform in
    ``earliest_year``-01..this month unless given; type/kind uniform unless given)."""
    today = today if today is not None else date.today()
    if year is None or month is None:
        this_month = today.year * 12 + today.month - 1
        first = (year if year is not None else earliest_year) * 12
        last = min(this_month, year * 12 + 11) if year is not None else this_month
        candidates = [
            index for index in range(first, last + 1) if month is None or index % 12 == month - 1
        ]
        if not candidates:
            raise ValueError("no registration month fits the given constraints")
        year, month0 = divmod(rng.choice(candidates), 12)
        month = month0 + 1
    chosen_type: EntityType = (
        entity_type if entity_type is not None else rng.choice(get_args(EntityType))
    )
    chosen_kind: BINKind = kind if kind is not None else rng.choice(get_args(BINKind))
    while True:
        bin_ = make_bin(
            year, month, chosen_type, chosen_kind, rng.randint(0, BIN_SERIAL_MAX), today=today
        )
        if bin_ is not None:
            return bin_


# --------------------------------------------------------------------------------------------
# either
# --------------------------------------------------------------------------------------------


def parse_identifier(value: str, *, today: date | None = None) -> IINInfo | BINInfo:
    """Parse a value that may be an IIN or a BIN.

    IIN is tried first, then BIN. If both fail, the BIN reason is reported when the value
    clearly looks like a BIN (12 digits with 4, 5 or 6 as the 5th digit — an IIN's 5th digit is
    the tens of the day, 0–3), otherwise the IIN reason.
    """
    try:
        return parse_iin(value, today=today)
    except InvalidIdentifier as iin_error:
        try:
            return parse_bin(value, today=today)
        except InvalidIdentifier as bin_error:
            if isinstance(value, str) and _DIGITS_12.fullmatch(value) is not None:
                if value[4] in _ENTITY_DIGITS:
                    raise bin_error from None
                raise iin_error from None
            raise InvalidIdentifier("IIN", "IIN/BIN must be exactly 12 digits") from None


# --------------------------------------------------------------------------------------------
# pydantic v2 annotated types
# --------------------------------------------------------------------------------------------

EXAMPLE_IIN: Final = "900115300122"  # 1990-01-15, male, serial 0012
EXAMPLE_BIN: Final = "150340001236"  # 2015-03, resident, head organisation, serial 00123


def _pydantic_iin(value: str) -> str:
    try:
        parse_iin(value)
    except InvalidIdentifier as exc:
        raise PydanticCustomError("invalid_iin", "{reason}", {"reason": exc.reason}) from None
    return value


def _pydantic_bin(value: str) -> str:
    try:
        parse_bin(value)
    except InvalidIdentifier as exc:
        raise PydanticCustomError("invalid_bin", "{reason}", {"reason": exc.reason}) from None
    return value


def _pydantic_iin_or_bin(value: str) -> str:
    try:
        parse_identifier(value)
    except InvalidIdentifier as exc:
        raise PydanticCustomError(
            "invalid_iin_or_bin", "{reason}", {"reason": exc.reason}
        ) from None
    return value


def _schema(description: str, examples: list[str]) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9]{12}$",
            "minLength": 12,
            "maxLength": 12,
            "description": description,
            "examples": examples,
        }
    )


IIN = Annotated[
    str,
    AfterValidator(_pydantic_iin),
    _schema("Kazakh individual identification number (IIN), 12 digits", [EXAMPLE_IIN]),
]
"""An IIN in a pydantic model: the error message of a bad value is the human reason."""

BIN = Annotated[
    str,
    AfterValidator(_pydantic_bin),
    _schema("Kazakh business identification number (BIN), 12 digits", [EXAMPLE_BIN]),
]
"""A BIN in a pydantic model: the error message of a bad value is the human reason."""

IINOrBIN = Annotated[
    str,
    AfterValidator(_pydantic_iin_or_bin),
    _schema("Kazakh IIN or BIN, 12 digits", [EXAMPLE_IIN, EXAMPLE_BIN]),
]
"""An IIN or a BIN in a pydantic model (see :func:`parse_identifier` for the reported reason)."""
