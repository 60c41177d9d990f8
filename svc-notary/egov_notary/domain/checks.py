"""The legal checks an act passes before it can be signed, as pure rules over facts that the
service layer fetched from the state databases (persons, real estate)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

from egov_notary.domain.terms import PropertySaleTerms, Terms


@dataclass(frozen=True)
class PersonFact:
    iin: str
    full_name: str
    alive: bool
    date_of_death: date | None = None


@dataclass(frozen=True)
class EncumbranceFact:
    kind: str  # "arrest" | "mortgage"
    imposed_by: str
    imposed_at: datetime
    active: bool


@dataclass(frozen=True)
class PropertyFact:
    cadastral_number: str
    address: str
    owners: Mapping[str, Fraction]
    encumbrances: tuple[EncumbranceFact, ...] = ()


@dataclass(frozen=True)
class CheckOutcome:
    failures: tuple[str, ...]
    party_names: Mapping[str, str] = field(default_factory=dict)
    property_address: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def reason(self) -> str:
        return "; ".join(self.failures)


def evaluate_checks(
    terms: Terms,
    persons: Mapping[str, PersonFact | None],
    prop: PropertyFact | None = None,
) -> CheckOutcome:
    """Every reason the act cannot proceed (empty when it can)."""
    failures: list[str] = []
    names: dict[str, str] = {}
    for party in terms.parties:
        person = persons.get(party.iin)
        role = party.role
        if person is None:
            failures.append(
                f"{role} {party.iin} is not registered in the state database of individuals"
            )
            continue
        names[party.iin] = person.full_name
        if not person.alive:
            when = f" on {person.date_of_death.isoformat()}" if person.date_of_death else ""
            failures.append(f"{role} {party.iin} ({person.full_name}) died{when}")
    address: str | None = None
    if isinstance(terms, PropertySaleTerms):
        if prop is None:
            failures.append(f"property {terms.cadastral_number} is not in the real estate register")
        else:
            address = prop.address
            failures.extend(_ownership_failures(terms, prop))
    return CheckOutcome(tuple(failures), names, address)


def _ownership_failures(terms: PropertySaleTerms, prop: PropertyFact) -> list[str]:
    out: list[str] = []
    cad = terms.cadastral_number
    for seller in terms.sellers:
        owned = prop.owners.get(seller.iin, Fraction(0))
        if owned == 0:
            out.append(f"seller {seller.iin} is not an owner of property {cad}")
        elif owned < seller.share:
            out.append(
                f"seller {seller.iin} owns {owned} of property {cad}, "
                f"less than the {seller.share} being sold"
            )
    for enc in prop.encumbrances:
        if not enc.active:
            continue
        since = enc.imposed_at.date().isoformat()
        if enc.kind == "arrest":
            out.append(f"property {cad} is under arrest imposed by {enc.imposed_by} on {since}")
        elif enc.kind == "mortgage":
            out.append(
                f"property {cad} has an unreleased mortgage held by {enc.imposed_by} since {since}"
            )
        else:
            out.append(f"property {cad} carries an active {enc.kind} ({enc.imposed_by})")
    return out
