"""Real estate: objects by cadastral number, owners with exact shares, encumbrances, transfers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from egov_registry.domain.common import require_whole, sum_shares
from meshkit.errors import Conflict, RuleViolation

EncumbranceKind = Literal["mortgage", "arrest"]

#: region:district:block:plot[:unit], e.g. 21:318:010:123:4 (21 = Astana, 20 = Almaty)
CADASTRAL_NUMBER = re.compile(r"^[0-9]{2}:[0-9]{3}:[0-9]{3}:[0-9]{1,5}(:[0-9]{1,5})?$")


def require_cadastral_number(value: str) -> str:
    if not CADASTRAL_NUMBER.match(value):
        raise RuleViolation(
            f"{value!r} is not a cadastral number (like 21:318:010:123:4)",
            errors={"cadastral_number": "must look like 21:318:010:123:4"},
        )
    return value


@dataclass(frozen=True)
class Stake:
    holder: str  # IIN or BIN
    share: Fraction


class TransferRefused(Exception):
    """The register cannot apply a sale as the notary described it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Encumbrance:
    id: str
    cadastral_number: str
    kind: EncumbranceKind
    imposed_by: str
    imposed_at: datetime
    basis: str | None = None
    lifts_at: datetime | None = None
    released_at: datetime | None = None
    release_reason: str | None = None

    def active_at(self, now: datetime) -> bool:
        return self.released_at is None and (self.lifts_at is None or self.lifts_at > now)

    def release(self, reason: str | None, now: datetime) -> None:
        if self.released_at is not None:
            raise Conflict(f"encumbrance {self.id} was already released")
        self.released_at = now
        self.release_reason = reason


@dataclass
class Property:
    cadastral_number: str
    kind: str
    address: str
    area_m2: Decimal
    owners: dict[str, Fraction]
    registered_at: datetime
    encumbrances: list[Encumbrance] = field(default_factory=list)

    @classmethod
    def register(
        cls,
        *,
        cadastral_number: str,
        kind: str,
        address: str,
        area_m2: Decimal,
        owners: Sequence[Stake],
        now: datetime,
    ) -> Property:
        require_cadastral_number(cadastral_number)
        if area_m2 <= 0:
            raise RuleViolation("area must be positive", errors={"area_m2": "must be > 0"})
        book: dict[str, Fraction] = {}
        for i, s in enumerate(owners):
            if s.holder in book:
                raise RuleViolation(
                    f"owner {s.holder} is listed twice", errors={f"owners.{i}.id": "listed twice"}
                )
            book[s.holder] = s.share
        require_whole(book.values(), "owners", "owners")
        return cls(cadastral_number, kind, address, area_m2, book, now)

    def share_of(self, holder: str) -> Fraction:
        return self.owners.get(holder, Fraction(0))

    def active_encumbrances(self, now: datetime) -> list[Encumbrance]:
        return [e for e in self.encumbrances if e.active_at(now)]

    def active_arrest(self, now: datetime) -> Encumbrance | None:
        return next((e for e in self.active_encumbrances(now) if e.kind == "arrest"), None)

    def impose(
        self,
        *,
        encumbrance_id: str,
        kind: EncumbranceKind,
        imposed_by: str,
        basis: str | None,
        lifts_at: datetime | None,
        now: datetime,
    ) -> Encumbrance:
        if lifts_at is not None and lifts_at <= now:
            raise RuleViolation(
                "an encumbrance cannot lift in the past", errors={"lifts_at": "in the past"}
            )
        enc = Encumbrance(
            id=encumbrance_id,
            cadastral_number=self.cadastral_number,
            kind=kind,
            imposed_by=imposed_by,
            imposed_at=now,
            basis=basis,
            lifts_at=lifts_at,
        )
        self.encumbrances.append(enc)
        return enc

    def transfer(self, sellers: Sequence[Stake], buyers: Sequence[Stake], now: datetime) -> None:
        """Move the sold shares from sellers to buyers, or refuse (and change nothing).

        Each seller's share is the fraction of the whole object they sell; each buyer's the
        fraction they receive. A mortgage does not block a sale (the bank's consent is part of
        the notarial act and the mortgage stays on the object); an arrest does.
        """
        arrest = self.active_arrest(now)
        if arrest is not None:
            raise TransferRefused(
                f"the property is under arrest imposed by {arrest.imposed_by} "
                f"on {arrest.imposed_at.date().isoformat()}"
            )
        if not sellers or not buyers:
            raise TransferRefused("a sale needs at least one seller and one buyer")
        sold = sum_shares(s.share for s in sellers)
        bought = sum_shares(b.share for b in buyers)
        if sold != bought:
            raise TransferRefused(f"the sellers sell {sold} but the buyers receive {bought}")
        after = dict(self.owners)
        for s in sellers:
            held = after.get(s.holder, Fraction(0))
            if held < s.share:
                raise TransferRefused(
                    f"seller {s.holder} owns {held} of the property, not the {s.share} sold"
                    if held
                    else f"seller {s.holder} no longer owns a share of the property"
                )
            after[s.holder] = held - s.share
        for b in buyers:
            after[b.holder] = after.get(b.holder, Fraction(0)) + b.share
        after = {h: sh for h, sh in after.items() if sh != 0}
        # the invariant every transfer keeps: owners always sum to exactly 1
        if sum_shares(after.values()) != 1:  # pragma: no cover — guarded by sold == bought
            raise TransferRefused("the owners would not add up to 1")
        self.owners = after

    def stakes(self) -> list[Stake]:
        return [Stake(h, s) for h, s in sorted(self.owners.items())]
