"""The registry's rules without HTTP or SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov_registry.domain.certificates import certificate_number
from egov_registry.domain.civil_status import PersonRecord, check_parents
from egov_registry.domain.common import Actor
from egov_registry.domain.legal_entities import (
    FounderStake,
    LegalEntity,
    search_key,
    validate_application,
)
from egov_registry.domain.real_estate import Property, Stake, TransferRefused
from egov_registry.seed import demo_bin, demo_iins
from meshkit.errors import Conflict, PermissionDenied, RuleViolation
from meshkit.ids import is_valid_bin, is_valid_iin, parse_iin

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
A, B, C = "900115365296", "920520446747", "851103376346"


def flat(owners: dict[str, Fraction]) -> Property:
    return Property.register(
        cadastral_number="21:318:010:123:4",
        kind="apartment",
        address="Астана",
        area_m2=Decimal("50.00"),
        owners=[Stake(h, s) for h, s in owners.items()],
        now=NOW,
    )


def test_owners_must_sum_to_exactly_one() -> None:
    with pytest.raises(RuleViolation):
        flat({A: Fraction(333, 1000), B: Fraction(667, 1001)})
    assert flat({A: Fraction(1, 3), B: Fraction(2, 3)}).share_of(A) == Fraction(1, 3)


@given(
    parts=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=6),
    sell=st.integers(min_value=0, max_value=5),
)
def test_any_transfer_keeps_owners_summing_to_one(parts: list[int], sell: int) -> None:
    total = sum(parts)
    holders = [f"h{i}" for i in range(len(parts))]
    prop = Property(
        "21:318:010:123:4",
        "apartment",
        "x",
        Decimal(1),
        {h: Fraction(p, total) for h, p in zip(holders, parts, strict=True)},
        NOW,
    )
    seller = holders[sell % len(holders)]
    sold = prop.share_of(seller) / 3
    prop.transfer(
        [Stake(seller, sold)], [Stake("buyer1", sold / 2), Stake("buyer2", sold / 2)], NOW
    )
    assert sum(prop.owners.values()) == 1
    assert prop.share_of("buyer1") == sold / 2


def test_transfer_refusals_change_nothing() -> None:
    prop = flat({A: Fraction(1, 2), B: Fraction(1, 2)})
    before = dict(prop.owners)
    with pytest.raises(TransferRefused, match="not the 1"):
        prop.transfer([Stake(A, Fraction(1))], [Stake(C, Fraction(1))], NOW)
    with pytest.raises(TransferRefused, match="no longer owns"):
        prop.transfer([Stake(C, Fraction(1, 2))], [Stake(A, Fraction(1, 2))], NOW)
    prop.impose(
        encumbrance_id="e1",
        kind="arrest",
        imposed_by="сот",
        basis=None,
        lifts_at=NOW + timedelta(days=1),
        now=NOW,
    )
    with pytest.raises(TransferRefused, match="arrest"):
        prop.transfer([Stake(A, Fraction(1, 2))], [Stake(C, Fraction(1, 2))], NOW)
    assert prop.owners == before
    # the arrest lifts by itself at its date
    prop.transfer([Stake(A, Fraction(1, 2))], [Stake(C, Fraction(1, 2))], NOW + timedelta(days=2))
    assert prop.owners == {B: Fraction(1, 2), C: Fraction(1, 2)}


def test_parents_rules() -> None:
    mother = PersonRecord(B, "female", "active", date(1992, 5, 20))
    with pytest.raises(RuleViolation, match="born after"):
        check_parents(
            birth_date=date(1990, 1, 1),
            mother_iin=B,
            mother=mother,
            father_iin=None,
            father=None,
            today=date(2026, 1, 1),
        )
    check_parents(
        birth_date=date(2026, 1, 1),
        mother_iin=B,
        mother=mother,
        father_iin=None,
        father=None,
        today=date(2026, 1, 1),
    )


def test_founders_and_status_rules() -> None:
    with pytest.raises(RuleViolation, match="add up to 2/3"):
        validate_application(
            "LLP", [FounderStake(A, Fraction(1, 3)), FounderStake(B, Fraction(1, 3))], []
        )
    entity = LegalEntity(
        bin="190440872732",
        name_kk="x",
        name_ru="x",
        legal_form="LLP",
        status="active",
        director_iin=A,
        founders=[FounderStake(B, Fraction(1))],
        address="x",
        activity_codes=[],
        registered_at=NOW,
    )
    event = entity.change_status("liquidated", "банкроттық", date(2026, 3, 1))
    assert (event.old_status, event.new_status) == ("active", "liquidated")
    with pytest.raises(Conflict):
        entity.change_status("active", "x", date(2026, 3, 2))
    assert entity.is_managed_by(Actor("citizen", A)) and entity.is_managed_by(Actor("citizen", B))
    assert not entity.is_managed_by(Actor("citizen", C))


def test_citizens_act_only_for_themselves() -> None:
    with pytest.raises(PermissionDenied):
        Actor("citizen", A).require_agency("impose an arrest")
    Actor("notary", None).require_citizen_is([B], "x")
    with pytest.raises(PermissionDenied):
        Actor("citizen", A).require_citizen_is([B], "x")
    assert Actor("citizen", A).scope != Actor("notary").scope


def test_search_key_folds_kazakh_letters() -> None:
    assert search_key("«ҚАЗАҚ ТЕЛЕКОМ» АҚ") == search_key("«қазақ телеком» ақ")


def test_certificate_numbers_are_not_guessable() -> None:
    numbers = {certificate_number(2026, 42) for _ in range(50)}
    assert len(numbers) == 50 and all(n.startswith("RC-2026-0000042-") for n in numbers)


def test_demo_identifiers_are_valid_and_stable() -> None:
    iins = demo_iins()
    assert iins == ["900115365296", "920520446747", "851103376346", "780308401018", "700730377251"]
    assert all(is_valid_iin(i) for i in iins) and demo_bin() == "190440872732"
    assert is_valid_bin(demo_bin()) and parse_iin(iins[1]).sex == "female"
