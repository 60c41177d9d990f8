"""Shapes shared by several contracts."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from meshkit.bounds import MAX_TIYN, ShareTerm
from meshkit.ids import IINOrBIN

Sex = Literal["male", "female"]
Currency = Literal["KZT"]
#: money, wherever it enters: 0 … MAX_TIYN (< 10^15) tiyn (meshkit.bounds)
Tiyn = Annotated[
    int,
    Field(ge=0, le=MAX_TIYN, description="money in tiyn (1 KZT = 100 tiyn), at most 10^15 - 1"),
]


class Share(BaseModel):
    """An exact fraction of ownership (1/3 stays 1/3): numerator over denominator."""

    model_config = ConfigDict(frozen=True)

    num: ShareTerm = Field(examples=[1])
    den: ShareTerm = Field(examples=[2])

    @model_validator(mode="after")
    def _proper(self) -> Share:
        if self.num > self.den:
            raise ValueError("a share cannot exceed 1 (num must be <= den)")
        return self

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.num, self.den)

    @classmethod
    def of(cls, value: Fraction) -> Share:
        return cls(num=value.numerator, den=value.denominator)


class Holder(BaseModel):
    """A person (IIN) or legal entity (BIN) holding a share of something."""

    model_config = ConfigDict(frozen=True)

    id: IINOrBIN
    share: Share


class Money(BaseModel):
    amount_tiyn: Tiyn
    currency: Currency = "KZT"
