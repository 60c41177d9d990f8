"""Rules of the identity domain, without HTTP or SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from egov_identity.domain.consents import Consent
from egov_identity.domain.credentials import (
    LOGIN_FAILED,
    Credential,
    LoginPolicy,
    OtpChallenge,
    SignatureChallenge,
    authenticate_password,
    check_password_policy,
)
from egov_identity.domain.errors import (
    AccountLocked,
    ChallengeInvalid,
    InvalidCredentials,
    InvalidGrant,
    OtpAlreadyUsed,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpInvalid,
    PersonDeceasedError,
    RefreshTokenReused,
    SerialsExhausted,
)
from egov_identity.domain.persons import Person, PersonDetails, iin_for_serial, name_key
from egov_identity.domain.pki import Certificate
from egov_identity.domain.tokens import IssuerKey, OAuthClient, RefreshTokenFamily, token_digest
from meshkit.contracts.identity import (
    CertificateRevoked,
    ConsentGranted,
    ConsentRevoked,
    PersonDeceased,
    PersonRegistered,
    PersonUpdated,
)
from meshkit.errors import RuleViolation
from meshkit.ids import parse_iin

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PEPPER = b"pepper"


def details(**kw: object) -> PersonDetails:
    base: dict[str, object] = {
        "surname": "  Сәрсенбаев ",
        "given_name": "Әлихан",
        "patronymic": "Нұрланұлы",
        "birth_date": date(1990, 1, 15),
        "sex": "male",
    }
    base.update(kw)
    return PersonDetails(**base)  # type: ignore[arg-type]


# -- persons ---------------------------------------------------------------------------------
def test_iin_allocation_encodes_birth_date_and_sex_and_skips_uncomputable_serials() -> None:
    issued = []
    for serial in range(0, 60):
        iin = iin_for_serial(date(2024, 2, 29), "female", serial, today=NOW.date())
        if iin is None:
            continue
        info = parse_iin(iin, today=NOW.date())
        assert (info.birth_date, info.sex, info.serial) == (date(2024, 2, 29), "female", serial)
        assert iin[6] == "6"  # 21st century, female
        issued.append(iin)
    assert len(issued) < 60, "some serials have no computable check digit and are skipped"
    assert len(set(issued)) == len(issued)
    with pytest.raises(SerialsExhausted):
        iin_for_serial(date(2024, 2, 29), "female", 10000, today=NOW.date())


def test_register_normalizes_names_and_records_the_event() -> None:
    person = Person.register("900115300122", details(), now=NOW)
    assert person.surname == "Сәрсенбаев" and person.status == "active"
    assert [type(e) for e in person.events] == [PersonRegistered]
    assert name_key("СӘРСЕНБАЕВ") == name_key("сәрсенбаев")
    with pytest.raises(RuleViolation, match="does not encode"):
        Person.register("900115300122", details(sex="female"), now=NOW)


def test_update_reports_only_real_changes_and_deceased_records_are_closed() -> None:
    person = Person.register("900115300122", details(), now=NOW)
    person.events.clear()
    assert person.update({"address": "Астана", "surname": "Сәрсенбаев"}, now=NOW) == ["address"]
    assert isinstance(person.events[-1], PersonUpdated)
    assert person.update({"address": "Астана"}, now=NOW) == []
    with pytest.raises(RuleViolation):
        person.update({"surname": "   "}, now=NOW)
    assert person.mark_deceased(date(2026, 1, 2), act_number="D-1", now=NOW)
    assert not person.mark_deceased(date(2026, 1, 2), act_number="D-1", now=NOW)  # duplicate
    assert sum(isinstance(e, PersonDeceased) for e in person.events) == 1
    with pytest.raises(PersonDeceasedError):
        person.update({"phone": "+77010000000"}, now=NOW)


def test_death_cannot_precede_birth_or_be_in_the_future() -> None:
    person = Person.register("900115300122", details(), now=NOW)
    with pytest.raises(RuleViolation):
        person.mark_deceased(date(1989, 1, 1), act_number=None, now=NOW)
    with pytest.raises(RuleViolation):
        person.mark_deceased(NOW.date() + timedelta(days=1), act_number=None, now=NOW)


def test_parents_must_be_older_and_of_the_right_sex() -> None:
    child = Person.register("190601500314", details(birth_date=date(2019, 6, 1)), now=NOW)
    mother = Person.register(
        "920308400210", details(birth_date=date(1992, 3, 8), sex="female"), now=NOW
    )
    father = Person.register("900115300122", details(), now=NOW)
    assert child.link_parents(mother, father, now=NOW) == ["mother_iin", "father_iin"]
    assert child.link_parents(mother, father, now=NOW) == []  # idempotent
    with pytest.raises(RuleViolation, match="woman"):
        child.link_parents(father, None, now=NOW)
    with pytest.raises(RuleViolation, match="born before"):
        father.link_parents(None, child, now=NOW)
    assert child.is_minor_on(NOW.date()) and not father.is_minor_on(NOW.date())


# -- credentials ------------------------------------------------------------------------------
def test_failures_lock_the_account_and_the_lock_runs_out() -> None:
    policy = LoginPolicy(max_failures=3, lockout_s=60)
    cred = Credential(iin="900115300122", password_hash="x")
    for _ in range(2):
        with pytest.raises(InvalidCredentials) as failed:
            authenticate_password(cred, False, policy, NOW)
        # never how many attempts are left (that tells a stranger the IIN is registered)
        assert failed.value.detail == LOGIN_FAILED and "left" not in failed.value.detail
    with pytest.raises(AccountLocked) as locked:
        authenticate_password(cred, False, policy, NOW)
    assert locked.value.retry_after_s == 61
    with pytest.raises(AccountLocked):  # even the right password, while locked
        authenticate_password(cred, True, policy, NOW + timedelta(seconds=30))
    later = NOW + timedelta(seconds=61)
    assert authenticate_password(cred, True, policy, later) is cred
    assert not cred.record_failure(policy, later)  # a fresh count after the lock ran out
    assert cred.failed_attempts == 1


def test_one_time_code_expires_is_single_use_and_limits_attempts() -> None:
    policy = LoginPolicy(otp_ttl_s=300, otp_max_attempts=2)
    ch, code = OtpChallenge.issue("900115300122", "+77011234567", "login", PEPPER, policy, NOW)
    assert len(code) == 6 and code.isdigit() and code not in ch.code_hash
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(OtpInvalid, match="1 attempts left"):
        ch.answer(wrong, PEPPER, NOW)
    ch.answer(code, PEPPER, NOW)
    with pytest.raises(OtpAlreadyUsed):
        ch.answer(code, PEPPER, NOW)

    ch, code = OtpChallenge.issue("900115300122", "+77011234567", "login", PEPPER, policy, NOW)
    with pytest.raises(OtpExpired):
        ch.answer(code, PEPPER, NOW + timedelta(seconds=300))

    ch, code = OtpChallenge.issue("900115300122", "+77011234567", "login", PEPPER, policy, NOW)
    for _ in range(2):
        with pytest.raises((OtpInvalid, OtpAttemptsExceeded)):
            ch.answer(wrong, PEPPER, NOW)
    with pytest.raises(OtpAttemptsExceeded):
        ch.answer(code, PEPPER, NOW)  # even the right code, once the attempts are spent


def test_password_policy() -> None:
    policy = LoginPolicy(password_min_length=8)
    for bad in ("short1", "12345678901", "onlyletters"):
        with pytest.raises(RuleViolation):
            check_password_policy(bad, policy)
    check_password_policy("Қазақстан-2026", policy)


def test_signature_challenge_is_single_use() -> None:
    ch = SignatureChallenge.issue(120, NOW)
    with pytest.raises(ChallengeInvalid):
        ch.consume("other", NOW)
    ch.consume(ch.nonce, NOW)
    with pytest.raises(ChallengeInvalid):
        ch.consume(ch.nonce, NOW)


# -- tokens -----------------------------------------------------------------------------------
def test_refresh_token_reuse_revokes_the_family() -> None:
    family = RefreshTokenFamily.start(
        subject="900115300122", kind="citizen", scope="citizen", amr=["pwd"], ttl_s=3600, now=NOW
    )
    first, raw = family.mint(NOW)
    assert first.digest == token_digest(raw) and raw not in first.digest
    family.exchange(first, NOW)
    second, _ = family.mint(NOW)
    assert second.generation == 2
    with pytest.raises(RefreshTokenReused):
        family.exchange(first, NOW)  # the old one again: stolen
    assert family.revoked_at == NOW and not family.is_active(NOW)
    with pytest.raises(InvalidGrant, match="revoked"):
        family.exchange(second, NOW)  # the legitimate one dies with the family


def test_client_scopes_and_secret() -> None:
    client = OAuthClient(
        client_id="registry",
        agency_code="registry",
        scopes=["persons:read", "persons:write"],
        secret_digest=token_digest("s3cret"),
    )
    client.check_secret("s3cret")
    assert client.grant_scope(None) == "persons:read persons:write"
    assert client.grant_scope("persons:read") == "persons:read"
    with pytest.raises(RuleViolation):
        client.grant_scope("ca:revoke")


def test_retired_keys_stay_published_until_their_tokens_expire() -> None:
    key = IssuerKey("k1", "EdDSA", {}, "pem", NOW)
    key.retire(NOW)
    assert key.private_pem is None and not key.current
    assert key.published(NOW + timedelta(seconds=600), token_ttl_s=600)
    assert not key.published(NOW + timedelta(seconds=661), token_ttl_s=600)


# -- certificates and consents ----------------------------------------------------------------
def test_certificate_revocation_time_and_compromise_backdating() -> None:
    cert = Certificate(
        serial="ab",
        holder="900115300122",
        holder_kind="citizen",
        usage="signing",
        subject="CN=X",
        not_before=NOW - timedelta(days=10),
        not_after=NOW + timedelta(days=300),
        certificate_pem="",
        issued_at=NOW - timedelta(days=10),
    )
    assert cert.revoke("key_compromise", NOW, compromised_at=NOW - timedelta(days=2))
    assert cert.revoked_at == NOW - timedelta(days=2)
    assert cert.revoked_by(NOW - timedelta(days=1)) and not cert.revoked_by(NOW - timedelta(days=3))
    assert not cert.revoke("superseded", NOW)
    assert [type(e) for e in cert.events] == [CertificateRevoked]


def test_consent_lifecycle() -> None:
    consent = Consent.grant(
        iin="900115300122",
        agency="payments",
        categories=["contacts", "personal", "contacts"],
        purpose="жәрдемақы",
        expires_at=NOW + timedelta(days=30),
        now=NOW,
    )
    assert consent.categories == ["contacts", "personal"]
    assert consent.covers("personal", NOW) and not consent.covers("property", NOW)
    assert not consent.covers("personal", NOW + timedelta(days=31))
    assert consent.revoke(NOW) and not consent.revoke(NOW)
    assert not consent.covers("personal", NOW)
    assert [type(e) for e in consent.events] == [ConsentGranted, ConsentRevoked]
    with pytest.raises(RuleViolation):
        Consent.grant(
            iin="900115300122",
            agency="payments",
            categories=["personal"],
            purpose="x",
            expires_at=NOW - timedelta(seconds=1),
            now=NOW,
        )
