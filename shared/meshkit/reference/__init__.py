"""Reference data of the state that several services rely on, kept in one place.

``mrp.json`` holds the monthly calculation index (MRP, МРП / АЕК) by year, in tiyn: fines,
duties and allowances are set in law as multiples of it. The file is validated when this
module is imported; a malformed table fails at start, not at the first payout.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["MrpTable", "mrp_table", "mrp_tiyn"]


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


@cache
def mrp_table() -> MrpTable:
    raw = files(__package__).joinpath("mrp.json").read_text(encoding="utf-8")
    return MrpTable.model_validate(json.loads(raw))


def mrp_tiyn(on: date) -> int:
    """The monthly calculation index (MRP) in tiyn on a date; 2026: 432 500 (4 325 ₸)."""
    return mrp_table().on(on)


mrp_table()  # validate at import: a broken table must stop the service at start
