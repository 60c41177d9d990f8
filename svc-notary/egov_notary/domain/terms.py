"""The legal content of each kind of notarial act: who the parties are, who must sign, what
the act says. Terms are immutable: an act's content never changes once drafted, so every
signature made over it stays a signature over exactly what is registered."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Literal

from meshkit.errors import RuleViolation

ActKind = Literal["power_of_attorney", "property_sale", "copy_certification"]
PartyRole = Literal["principal", "attorney", "seller", "buyer", "applicant"]

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Party:
    iin: str
    role: PartyRole


@dataclass(frozen=True)
class ShareHolding:
    """A person and an exact fraction (of the property sold or bought)."""

    iin: str
    share: Fraction


def _share_json(share: Fraction) -> dict[str, int]:
    return {"num": share.numerator, "den": share.denominator}


@dataclass(frozen=True)
class PowerOfAttorneyTerms:
    principal_iin: str
    attorney_iin: str
    powers: tuple[str, ...]
    valid_from: date
    valid_until: date
    may_delegate: bool = False

    kind: ActKind = "power_of_attorney"

    def __post_init__(self) -> None:
        if self.principal_iin == self.attorney_iin:
            raise RuleViolation(
                "the principal cannot give a power of attorney to themselves",
                errors={"attorney_iin": "must differ from principal_iin"},
            )
        if not self.powers or any(not p.strip() for p in self.powers):
            raise RuleViolation(
                "a power of attorney lists at least one power", errors={"powers": "empty"}
            )
        if self.valid_until < self.valid_from:
            raise RuleViolation(
                "a power of attorney cannot end before it starts",
                errors={"valid_until": "before valid_from"},
            )
        # Civil Code of the Republic of Kazakhstan, art. 170: at most three years
        if self.valid_until > _add_years(self.valid_from, 3):
            raise RuleViolation(
                "a power of attorney is issued for at most three years",
                errors={"valid_until": "more than three years after valid_from"},
            )

    @property
    def parties(self) -> tuple[Party, ...]:
        return (Party(self.principal_iin, "principal"), Party(self.attorney_iin, "attorney"))

    @property
    def signatories(self) -> tuple[Party, ...]:
        # a power of attorney is a unilateral act: the principal signs, the attorney does not
        return (Party(self.principal_iin, "principal"),)

    @property
    def payer(self) -> str:
        return self.principal_iin

    def to_content(self) -> dict[str, Any]:
        return {
            "principal_iin": self.principal_iin,
            "attorney_iin": self.attorney_iin,
            "powers": list(self.powers),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "may_delegate": self.may_delegate,
        }


@dataclass(frozen=True)
class PropertySaleTerms:
    cadastral_number: str
    sellers: tuple[ShareHolding, ...]
    buyers: tuple[ShareHolding, ...]
    price_tiyn: int

    kind: ActKind = "property_sale"

    def __post_init__(self) -> None:
        if not self.sellers or not self.buyers:
            raise RuleViolation(
                "a sale has at least one seller and one buyer",
                errors={"sellers" if not self.sellers else "buyers": "empty"},
            )
        if self.price_tiyn <= 0:
            raise RuleViolation("the price must be positive", errors={"price_tiyn": "not > 0"})
        for side, holdings in (("sellers", self.sellers), ("buyers", self.buyers)):
            iins = [h.iin for h in holdings]
            if len(set(iins)) != len(iins):
                raise RuleViolation(
                    f"a person appears twice among the {side}", errors={side: "duplicate IIN"}
                )
            for h in holdings:
                if not 0 < h.share <= 1:
                    raise RuleViolation(
                        "a share is a fraction in (0, 1]", errors={side: f"bad share of {h.iin}"}
                    )
        both = {h.iin for h in self.sellers} & {h.iin for h in self.buyers}
        if both:
            raise RuleViolation(
                f"{', '.join(sorted(both))} cannot be both seller and buyer",
                errors={"buyers": "a seller is also a buyer"},
            )
        sold = sum((h.share for h in self.sellers), Fraction(0))
        bought = sum((h.share for h in self.buyers), Fraction(0))
        if sold != bought:
            raise RuleViolation(
                f"the buyers acquire {bought} but the sellers sell {sold}: the shares must match",
                errors={"buyers": f"shares add up to {bought}, sellers sell {sold}"},
            )
        if sold > 1:
            raise RuleViolation(
                "more than the whole property is sold", errors={"sellers": f"shares add to {sold}"}
            )

    @property
    def parties(self) -> tuple[Party, ...]:
        return tuple(Party(h.iin, "seller") for h in self.sellers) + tuple(
            Party(h.iin, "buyer") for h in self.buyers
        )

    @property
    def signatories(self) -> tuple[Party, ...]:
        return self.parties

    @property
    def payer(self) -> str:
        return self.buyers[0].iin

    @property
    def share_sold(self) -> Fraction:
        return sum((h.share for h in self.sellers), Fraction(0))

    def to_content(self) -> dict[str, Any]:
        return {
            "cadastral_number": self.cadastral_number,
            "sellers": [{"iin": h.iin, "share": _share_json(h.share)} for h in self.sellers],
            "buyers": [{"iin": h.iin, "share": _share_json(h.share)} for h in self.buyers],
            "price_tiyn": self.price_tiyn,
            "currency": "KZT",
        }


@dataclass(frozen=True)
class CopyCertificationTerms:
    applicant_iin: str
    document_title: str
    document_sha256: str
    pages: int

    kind: ActKind = "copy_certification"

    def __post_init__(self) -> None:
        if not _SHA256_HEX.match(self.document_sha256):
            raise RuleViolation(
                "the document digest is a SHA-256 in lowercase hex (64 characters)",
                errors={"document_sha256": "not a SHA-256 hex digest"},
            )
        if self.pages < 1:
            raise RuleViolation("a document has at least one page", errors={"pages": "< 1"})
        if not self.document_title.strip():
            raise RuleViolation("the document needs a title", errors={"document_title": "empty"})

    @property
    def parties(self) -> tuple[Party, ...]:
        return (Party(self.applicant_iin, "applicant"),)

    @property
    def signatories(self) -> tuple[Party, ...]:
        return self.parties

    @property
    def payer(self) -> str:
        return self.applicant_iin

    def to_content(self) -> dict[str, Any]:
        return {
            "applicant_iin": self.applicant_iin,
            "document_title": self.document_title,
            "document_sha256": self.document_sha256,
            "pages": self.pages,
        }


Terms = PowerOfAttorneyTerms | PropertySaleTerms | CopyCertificationTerms


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def terms_from_content(kind: str, data: dict[str, Any]) -> Terms:
    """Rebuild terms from their stored content (the inverse of ``to_content``)."""

    def holdings(items: Sequence[dict[str, Any]]) -> tuple[ShareHolding, ...]:
        return tuple(
            ShareHolding(i["iin"], Fraction(i["share"]["num"], i["share"]["den"])) for i in items
        )

    if kind == "power_of_attorney":
        return PowerOfAttorneyTerms(
            principal_iin=data["principal_iin"],
            attorney_iin=data["attorney_iin"],
            powers=tuple(data["powers"]),
            valid_from=date.fromisoformat(data["valid_from"]),
            valid_until=date.fromisoformat(data["valid_until"]),
            may_delegate=bool(data.get("may_delegate", False)),
        )
    if kind == "property_sale":
        return PropertySaleTerms(
            cadastral_number=data["cadastral_number"],
            sellers=holdings(data["sellers"]),
            buyers=holdings(data["buyers"]),
            price_tiyn=int(data["price_tiyn"]),
        )
    if kind == "copy_certification":
        return CopyCertificationTerms(
            applicant_iin=data["applicant_iin"],
            document_title=data["document_title"],
            document_sha256=data["document_sha256"],
            pages=int(data["pages"]),
        )
    raise ValueError(f"unknown act kind {kind!r}")
