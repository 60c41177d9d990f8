"""State allowances a citizen claims for themself: what each pays, from which budget line.

The amounts are set in law as multiples of the MRP (monthly calculation index,
:func:`meshkit.reference.mrp_tiyn`); the table (``egov_payments/reference/allowances.json``)
is payments' own reference data, validated when this module is imported. Nothing of it ever
comes from the caller: a claim names only the kind and the subject (the child, the deceased).
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Final, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from meshkit.contracts.payments import AllowanceKind
from meshkit.reference import mrp_tiyn

ALLOWANCE_KINDS: Final[tuple[str, ...]] = get_args(AllowanceKind)


class AllowanceRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mrp: int = Field(gt=0, le=10_000, description="the amount, in MRP of the day of payment")
    kbk: str = Field(pattern=r"^[0-9]{6}$", description="the spending line it is paid from")
    purpose: str = Field(min_length=1, max_length=300)
    legal_basis: str = Field(min_length=1, max_length=300)


class AllowanceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    payer_agency: str = Field(
        min_length=2, max_length=50, description="whose budget account pays the allowances"
    )
    allowances: dict[AllowanceKind, AllowanceRule]

    @model_validator(mode="after")
    def _complete(self) -> AllowanceTable:
        missing = set(ALLOWANCE_KINDS) - set(self.allowances)
        if missing:
            raise ValueError(f"no rule for the allowance kind(s) {sorted(missing)}")
        return self

    def rule(self, kind: AllowanceKind) -> AllowanceRule:
        return self.allowances[kind]

    def amount_tiyn(self, kind: AllowanceKind, on: date) -> int:
        return self.rule(kind).mrp * mrp_tiyn(on)


@cache
def allowance_table() -> AllowanceTable:
    raw = files("egov_payments.reference").joinpath("allowances.json").read_text("utf-8")
    return AllowanceTable.model_validate(json.loads(raw))


allowance_table()  # validated at import: a broken table stops the service at start
