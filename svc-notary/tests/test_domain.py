"""The notary domain alone: terms, checks, the act's life, signatures over its content."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest

from egov_notary.domain.acts import (
    VERIFICATION_ALPHABET,
    ActStatus,
    ActWasRegistered,
    ActWasRevoked,
    NotarialAct,
    Signature,
    format_act_number,
    new_verification_code,
    notarial_fee_tiyn,
    signed_payload_mismatch,
)
from egov_notary.domain.checks import (
    CheckOutcome,
    EncumbranceFact,
    PersonFact,
    PropertyFact,
    evaluate_checks,
)
from egov_notary.domain.notaries import Notary
from egov_notary.domain.terms import (
    PowerOfAttorneyTerms,
    PropertySaleTerms,
    ShareHolding,
    terms_from_content,
)
from meshkit.documents import canonical_json
from meshkit.errors import Conflict, PermissionDenied, RuleViolation

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
N, P, A, S1, S2, B = (
    "780408486032",
    "900115300122",
    "850101400123",
    "720511385087",
    "620728401190",
    "920615319036",
)


def notary(status: str = "active") -> Notary:
    return Notary(N, "Жұмабекова Әсел", "0001101", "Астана", status, NOW, NOW)  # type: ignore[arg-type]


def sale() -> PropertySaleTerms:
    return PropertySaleTerms(
        cadastral_number="21:320:101:234",
        sellers=(ShareHolding(S1, Fraction(1, 3)), ShareHolding(S2, Fraction(1, 6))),
        buyers=(ShareHolding(B, Fraction(1, 2)),),
        price_tiyn=1_000_000_00,
    )


def poa(until: date = date(2027, 6, 30)) -> PowerOfAttorneyTerms:
    return PowerOfAttorneyTerms(P, A, ("sell the car",), date(2026, 11, 23), until)


def checked(act: NotarialAct) -> NotarialAct:
    act.record_checks(CheckOutcome(()), "test", NOW)
    return act


def signature(act: NotarialAct, iin: str, role: str = "party") -> Signature:
    return Signature(iin, role, "jws", act.content_sha256, NOW, "ab", NOW)  # type: ignore[arg-type]


def test_terms_rules() -> None:
    with pytest.raises(RuleViolation, match="shares must match"):
        replace(sale(), buyers=(ShareHolding(B, Fraction(1, 3)),))
    with pytest.raises(RuleViolation, match="both seller and buyer"):
        replace(sale(), buyers=(ShareHolding(S1, Fraction(1, 2)),))
    with pytest.raises(RuleViolation, match="three years"):
        poa(until=date(2029, 11, 24))
    with pytest.raises(RuleViolation, match="themselves"):
        PowerOfAttorneyTerms(P, P, ("x",), date(2026, 1, 1), date(2026, 2, 1))
    # exact fractions survive the round trip through stored content
    assert terms_from_content("property_sale", sale().to_content()) == sale()
    assert terms_from_content("power_of_attorney", poa().to_content()) == poa()


def test_checks_name_every_reason() -> None:
    persons = {
        S1: PersonFact(S1, "Сәрсенбаев Әлихан", True),
        S2: PersonFact(S2, "Оспанова Гүлнар", False, date(2025, 3, 1)),
        B: None,
    }
    prop = PropertyFact(
        "21:320:101:234",
        "Астана",
        {S1: Fraction(1, 4), S2: Fraction(1, 2)},
        (
            EncumbranceFact("arrest", "Сот", NOW, active=True),
            EncumbranceFact("mortgage", "Halyk", NOW, active=False),
        ),
    )
    out = evaluate_checks(sale(), persons, prop)
    assert not out.passed
    assert out.failures == (
        f"seller {S2} (Оспанова Гүлнар) died on 2025-03-01",
        f"buyer {B} is not registered in the state database of individuals",
        f"seller {S1} owns 1/4 of property 21:320:101:234, less than the 1/3 being sold",
        "property 21:320:101:234 is under arrest imposed by Сот on 2026-11-23",
    )
    ok = evaluate_checks(
        sale(),
        {i: PersonFact(i, i, True) for i in (S1, S2, B)},
        replace(prop, owners={S1: Fraction(1, 2), S2: Fraction(1, 2)}, encumbrances=()),
    )
    assert ok.passed and ok.property_address == "Астана"


def test_the_act_moves_along_its_stages() -> None:
    act = NotarialAct.draft(
        act_id="a1", notary=notary(), terms=sale(), fee_tiyn=100, actor="t", now=NOW
    )
    assert act.status == ActStatus.DRAFT
    with pytest.raises(RuleViolation, match="before its checks pass"):
        act.add_party_signature(signature(act, S1), NOW)
    checked(act)
    assert act.status == ActStatus.CHECKS_PASSED
    for iin in (S1, S2, B):
        assert act.add_party_signature(signature(act, iin), NOW)
    # signed by everyone, but not paid: status stays at the first unmet stage
    assert act.status == ActStatus.CHECKS_PASSED
    assert act.add_notary_signature(signature(act, N, "notary"), notary(), NOW)
    assert act.awaiting == ["the fee is not paid"] and not act.ready_to_register
    assert act.mark_fee_paid(invoice_id="I1", amount_tiyn=100, paid_at=NOW, actor="p", now=NOW)
    assert act.status == ActStatus.SIGNED_BY_NOTARY and act.ready_to_register
    assert not act.mark_fee_paid(invoice_id="I1", amount_tiyn=100, paid_at=NOW, actor="p", now=NOW)
    act.register(number=format_act_number(2026, 7), code="ABCD2345", notary=notary(), now=NOW)
    assert act.status == ActStatus.REGISTERED and act.number == "N-2026-000007"
    assert isinstance(act.events[0], ActWasRegistered)
    assert act.mark_executed("registry", NOW) and not act.mark_executed("registry", NOW)
    assert act.status == ActStatus.EXECUTED
    with pytest.raises(Conflict):
        act.revoke(by_iin=N, by_agency=False, actor="n", reason="late", now=NOW)


def test_signatures_cover_exactly_the_content() -> None:
    act = checked(
        NotarialAct.draft(act_id="a2", notary=notary(), terms=poa(), fee_tiyn=1, actor="t", now=NOW)
    )
    digest = hashlib.sha256(canonical_json(act.content)).hexdigest()
    assert act.content_sha256 == digest
    assert act.content["notary_iin"] == N and act.content["act_id"] == "a2"
    assert signed_payload_mismatch({"sha256": digest, "iat": 1}, act.content, digest) is None
    assert signed_payload_mismatch({**act.content, "iat": 1}, act.content, digest) is None
    altered = {**act.content, "terms": {**act.content["terms"], "valid_until": "2029-01-01"}}
    assert "not the act's canonical content" in str(
        signed_payload_mismatch(altered, act.content, digest)
    )
    assert signed_payload_mismatch({"sha256": digest, "extra": 1}, act.content, digest)
    # a signature over another content does not count, whoever made it
    stale = replace(signature(act, P), content_sha256="0" * 64)
    with pytest.raises(RuleViolation, match="not over this act's content"):
        act.add_party_signature(stale, NOW)
    with pytest.raises(PermissionDenied):
        act.add_party_signature(signature(act, A), NOW)  # the attorney does not sign a POA


def test_revocation_rules_and_public_status() -> None:
    act = checked(
        NotarialAct.draft(act_id="a3", notary=notary(), terms=poa(), fee_tiyn=1, actor="t", now=NOW)
    )
    act.add_party_signature(signature(act, P), NOW)
    act.add_notary_signature(signature(act, N, "notary"), notary(), NOW)
    act.mark_fee_paid(invoice_id="I", amount_tiyn=1, paid_at=NOW, actor="p", now=NOW)
    act.register(number="N-2026-000001", code="ABCD2345", notary=notary(), now=NOW)
    assert act.public_status(date(2027, 6, 30)) == "registered"
    assert act.public_status(date(2027, 7, 1)) == "expired"
    with pytest.raises(PermissionDenied):
        act.revoke(by_iin=A, by_agency=False, actor="a", reason="mine", now=NOW)
    act.revoke(by_iin=P, by_agency=False, actor="p", reason="changed my mind", now=NOW)
    assert act.public_status(date(2026, 12, 1)) == "revoked"
    assert isinstance(act.events[-1], ActWasRevoked)


def test_an_inactive_notary_cannot_act() -> None:
    with pytest.raises(RuleViolation, match="suspended"):
        NotarialAct.draft(
            act_id="x", notary=notary("suspended"), terms=poa(), fee_tiyn=1, actor="t", now=NOW
        )
    act = checked(
        NotarialAct.draft(act_id="y", notary=notary(), terms=poa(), fee_tiyn=1, actor="t", now=NOW)
    )
    act.add_party_signature(signature(act, P), NOW)
    act.add_notary_signature(signature(act, N, "notary"), notary(), NOW)
    act.mark_fee_paid(invoice_id="I", amount_tiyn=1, paid_at=NOW, actor="p", now=NOW)
    assert "the notary's license is terminated" in act.registration_blockers(notary("terminated"))


def test_codes_numbers_and_fees() -> None:
    codes = {new_verification_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 8 and set(c) <= set(VERIFICATION_ALPHABET) for c in codes)
    assert not set("0O1IL") & set(VERIFICATION_ALPHABET)
    assert format_act_number(2026, 123) == "N-2026-000123"
    assert notarial_fee_tiyn(poa(), 432_500) == 216_250
    assert notarial_fee_tiyn(sale(), 432_500) == 432_500
