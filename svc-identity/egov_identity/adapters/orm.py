"""Tables of the identity database (SQLAlchemy Core; repositories map rows to the domain)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from meshkit.db import ROW_ID, UTCDateTime

metadata = MetaData()

_ID = ROW_ID


# -- SDB Individuals -----------------------------------------------------------------------
persons = Table(
    "persons",
    metadata,
    Column("iin", String(12), primary_key=True),
    Column("surname", String(100), nullable=False),
    Column("given_name", String(100), nullable=False),
    Column("patronymic", String(100), nullable=True),
    # casefolded names: case-insensitive search that works for Kazakh letters on SQLite too
    Column("surname_key", String(100), nullable=False),
    Column("given_key", String(100), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(6), nullable=False),
    Column("citizenship", String(2), nullable=False),
    Column("birth_place", String(200), nullable=True),
    Column("address", String(300), nullable=True),
    Column("phone", String(16), nullable=True),
    Column("status", String(10), nullable=False),
    Column("date_of_death", Date, nullable=True),
    Column("death_act_number", String(64), nullable=True),
    Column("mother_iin", String(12), nullable=True),
    Column("father_iin", String(12), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_persons_mother_iin", persons.c.mother_iin)
Index("ix_persons_father_iin", persons.c.father_iin)
Index("ix_persons_name_birth", persons.c.surname_key, persons.c.birth_date, persons.c.given_key)

# next free IIN serial per (birth date, sex): allocation is one atomic upsert
iin_serials = Table(
    "iin_serials",
    metadata,
    Column("birth_date", Date, primary_key=True),
    Column("sex", String(6), primary_key=True),
    Column("next_serial", Integer, nullable=False),
)

person_requests = Table(  # Idempotency-Key of POST /persons, per calling client
    "person_requests",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("request_digest", String(64), nullable=False),
    Column("iin", String(12), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

disclosures = Table(  # which agency read which category of a person's data ("who holds what")
    "disclosures",
    metadata,
    Column("iin", String(12), primary_key=True),
    Column("agency", String(64), primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("first_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Column("times", Integer, nullable=False),
    Column("last_purpose", String(300), nullable=True),
)

# -- login -----------------------------------------------------------------------------------
credentials = Table(
    "credentials",
    metadata,
    Column("iin", String(12), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("password_changed_at", UTCDateTime, nullable=True),
    # an operator's roles, space-separated (meshkit.auth.roles); '' for citizens
    Column("roles", String(200), nullable=False, server_default=""),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("iin", String(12), nullable=False),
    Column("method", String(16), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("reason", String(200), nullable=True),
    Column("at", UTCDateTime, nullable=False),
)
Index("ix_login_attempts_iin_at", login_attempts.c.iin, login_attempts.c.at)

otp_challenges = Table(
    "otp_challenges",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("iin", String(12), nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("phone", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("actor", String(12), nullable=True),  # the operator who asked (centre consent)
)
Index("ix_otp_challenges_iin_created", otp_challenges.c.iin, otp_challenges.c.created_at)

signature_challenges = Table(
    "signature_challenges",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("nonce", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

sms_outbox = Table(
    "sms_outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("phone", String(16), nullable=False),
    Column("text", String(500), nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("failed_at", UTCDateTime, nullable=True),
    Column("error", String(200), nullable=True),
)
Index("ix_sms_outbox_phone", sms_outbox.c.phone, sms_outbox.c.id)
Index(
    "ix_sms_outbox_unsent",
    sms_outbox.c.id,
    postgresql_where=sms_outbox.c.sent_at.is_(None),
    sqlite_where=sms_outbox.c.sent_at.is_(None),
)

# -- tokens ----------------------------------------------------------------------------------
token_families = Table(
    "token_families",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subject", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("scope", Text, nullable=False),
    Column("amr", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_reason", String(200), nullable=True),
)
Index("ix_token_families_subject", token_families.c.subject)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("family_id", String(36), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)
Index("ix_refresh_tokens_family", refresh_tokens.c.family_id)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("agency_code", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("secret_digest", String(64), nullable=True),
    Column("jwks", JSON, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

client_assertions = Table(  # private_key_jwt replay protection: each jti once
    "client_assertions",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("jti", String(200), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
)

issuer_keys = Table(
    "issuer_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(10), nullable=False),
    Column("public_jwk", JSON, nullable=False),
    Column("private_pem", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# -- national CA -----------------------------------------------------------------------------
ca_roots = Table(
    "ca_roots",
    metadata,
    Column("key_fingerprint", String(64), primary_key=True),
    Column("certificate_pem", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

certificates = Table(
    "certificates",
    metadata,
    Column("serial", String(40), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("holder_kind", String(16), nullable=False),
    Column("usage", String(16), nullable=False),
    Column("subject", Text, nullable=False),
    Column("not_before", UTCDateTime, nullable=False),
    Column("not_after", UTCDateTime, nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revocation_reason", String(40), nullable=True),
)
Index("ix_certificates_holder", certificates.c.holder)

# -- consents --------------------------------------------------------------------------------
consents = Table(
    "consents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("iin", String(12), nullable=False),
    Column("agency", String(64), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)
Index("ix_consents_iin_agency", consents.c.iin, consents.c.agency)
Index("ix_consents_agency", consents.c.agency)
