"""Reference data of the state that several services rely on, kept in one place.

``mrp.json`` holds the monthly calculation index (MRP, МРП / АЕК) by year, in tiyn: fines,
duties and allowances are set in law as multiples of it. ``payments/kbk.json`` is the budget
classification payments budgets (owned by svc-payments); ``licensing/licence_types.json`` is
the licence catalogue (owned by svc-licensing). See ``README.md`` here for owners and readers.
Every file is validated when this module is imported; a malformed table fails at start, not
at the first payout, with the file and the field named (:class:`ReferenceDataError`).
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "KbkLine",
    "KbkTable",
    "LicenceCatalogue",
    "LicenceType",
    "MrpTable",
    "ReferenceDataError",
    "kbk",
    "kbk_table",
    "licence_catalogue",
    "load_reference",
    "mrp_table",
    "mrp_tiyn",
]


class ReferenceDataError(ValueError):
    """A reference file is missing, not JSON, or does not match its schema."""


class MrpTable(BaseModel):
    """The MRP in tiyn by calendar year (a year missing from the table keeps the last one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: Literal["tiyn"] = "tiyn"
    source: str = ""
    by_year: dict[int, int] = Field(min_length=1)

    @field_validator("by_year")
    @classmethod
    def _sane(cls, value: dict[int, int]) -> dict[int, int]:
        for year, tiyn in value.items():
            if not 1990 <= year <= 2200:
                raise ValueError(f"year {year} is out of range")
            if tiyn <= 0:
                raise ValueError(f"the MRP of {year} must be positive, not {tiyn}")
        return dict(sorted(value.items()))

    def on(self, day: date) -> int:
        """The MRP in force on ``day``: that year's, else the latest known before it."""
        known = [year for year in self.by_year if year <= day.year]
        if not known:
            first = min(self.by_year)
            raise LookupError(f"no MRP is known for {day.year} (the table starts in {first})")
        return self.by_year[max(known)]


_M = TypeVar("_M", bound=BaseModel)


def load_reference(model: type[_M], raw: str, *, name: str) -> _M:
    """Parse and validate one reference file; any defect is a :class:`ReferenceDataError`
    naming the file and each offending field."""
    try:
        return model.model_validate(json.loads(raw))
    except json.JSONDecodeError as exc:
        raise ReferenceDataError(f"{name}: not valid JSON ({exc})") from None
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
        )
        raise ReferenceDataError(f"{name} does not match {model.__name__}: {fields}") from None


def _read(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def mrp_table() -> MrpTable:
    return load_reference(MrpTable, _read("mrp.json"), name="mrp.json")


def mrp_tiyn(on: date) -> int:
    """The monthly calculation index (MRP) in tiyn on a date; 2026: 432 500 (4 325 ₸)."""
    return mrp_table().on(on)


# -- budget classification (owned by svc-payments) ------------------------------------------
_KEY = r"^[a-z][a-z0-9_]{1,63}$"


class KbkLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[0-9]{6}$", description="the 6-digit budget classification code")
    name: str = Field(min_length=1, max_length=300)
    kind: Literal["revenue", "spending"]


class KbkTable(BaseModel):
    """The KBK lines payments budgets, by a stable key (``licence_fee``, …)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: str = Field(min_length=1)
    source: str = ""
    codes: dict[str, KbkLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> KbkTable:
        seen: dict[str, str] = {}
        for key, line in self.codes.items():
            if not re.match(_KEY, key):
                raise ValueError(f"key {key!r} must be snake_case ({_KEY})")
            if line.code in seen:
                raise ValueError(f"KBK {line.code} is listed twice ({seen[line.code]}, {key})")
            seen[line.code] = key
        return self

    def code(self, key: str) -> str:
        try:
            return self.codes[key].code
        except KeyError:
            raise LookupError(f"payments budgets no KBK line {key!r}") from None

    def budgeted(self, code: str) -> bool:
        return any(line.code == code for line in self.codes.values())


@cache
def kbk_table() -> KbkTable:
    return load_reference(KbkTable, _read("payments/kbk.json"), name="payments/kbk.json")


def kbk(key: str) -> str:
    """The KBK code payments budgets under ``key`` (e.g. ``licence_fee`` → ``105402``)."""
    return kbk_table().code(key)


# -- the licence catalogue (owned by svc-licensing) -----------------------------------------
class Names(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kk: str = Field(min_length=1, max_length=300)
    ru: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=300)


class Authority(Names):
    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,49}$")


class LicenceRequirement(Names):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$")
    automatic: bool = False


class LicenceRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    applicant_kinds: list[Literal["legal_entity", "individual"]] = Field(
        default=["legal_entity"], min_length=1
    )
    legal_forms: list[str] | None = None
    activity_codes: list[str] = []
    min_age: int = Field(default=18, ge=16, le=100)
    detail_fields: list[str] = []


class LicenceType(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    name: Names
    authority: Authority
    fee_mrp: int = Field(ge=0, le=10_000, description="the licence fee in MRP")
    kbk: str = Field(pattern=_KEY, description="the key of payments' KBK line it is paid to")
    sla_working_days: int = Field(ge=1, le=365)
    validity_months: int | None = Field(default=None, ge=1, le=1200)
    requirements: list[LicenceRequirement] = Field(min_length=1)
    rules: LicenceRules
    legal_basis: str = ""

    def fee_tiyn(self, on: date) -> int:
        return self.fee_mrp * mrp_tiyn(on)

    def kbk_code(self) -> str:
        return kbk(self.kbk)


class LicenceCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: str = Field(min_length=1)
    fee_unit: str = ""
    kbk: str = ""
    types: list[LicenceType] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> LicenceCatalogue:
        codes = [t.code for t in self.types]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"licence type(s) listed twice: {twice}")
        table = kbk_table()
        for t in self.types:
            if t.kbk not in table.codes:
                raise ValueError(
                    f"{t.code}: KBK {t.kbk!r} is not a line payments budgets "
                    f"(payments/kbk.json has {sorted(table.codes)})"
                )
        return self

    def get(self, code: str) -> LicenceType:
        for t in self.types:
            if t.code == code:
                return t
        raise LookupError(f"there is no licence type {code!r} in licensing's catalogue")


@cache
def licence_catalogue() -> LicenceCatalogue:
    return load_reference(
        LicenceCatalogue,
        _read("licensing/licence_types.json"),
        name="licensing/licence_types.json",
    )


# validate at import: a broken table must stop the service at start
mrp_table()
kbk_table()
licence_catalogue()
