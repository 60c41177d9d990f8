"""SDB Individuals, login, tokens, national CA and consents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:07:52.890317
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "ca_roots",
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_fingerprint"),
    )
    op.create_table(
        "certificates",
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("holder_kind", sa.String(length=16), nullable=False),
        sa.Column("usage", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("serial"),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index("ix_certificates_holder", ["holder"], unique=False)

    op.create_table(
        "client_assertions",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index("ix_consents_agency", ["agency"], unique=False)
        batch_op.create_index("ix_consents_iin_agency", ["iin", "agency"], unique=False)

    op.create_table(
        "credentials",
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("iin"),
    )
    op.create_table(
        "disclosures",
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("last_purpose", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("iin", "agency", "category"),
    )
    op.create_table(
        "iin_serials",
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=False),
        sa.Column("next_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("birth_date", "sex"),
    )
    op.create_table(
        "issuer_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=10), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid"),
    )
    op.create_table(
        "login_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_iin_at", ["iin", "at"], unique=False)

    op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=True),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_table(
        "otp_challenges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("otp_challenges", schema=None) as batch_op:
        batch_op.create_index("ix_otp_challenges_iin_created", ["iin", "created_at"], unique=False)

    op.create_table(
        "person_requests",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client", "idempotency_key"),
    )
    op.create_table(
        "persons",
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("surname", sa.String(length=100), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("patronymic", sa.String(length=100), nullable=True),
        sa.Column("surname_key", sa.String(length=100), nullable=False),
        sa.Column("given_key", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=False),
        sa.Column("citizenship", sa.String(length=2), nullable=False),
        sa.Column("birth_place", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("date_of_death", sa.Date(), nullable=True),
        sa.Column("death_act_number", sa.String(length=64), nullable=True),
        sa.Column("mother_iin", sa.String(length=12), nullable=True),
        sa.Column("father_iin", sa.String(length=12), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("iin"),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index("ix_persons_father_iin", ["father_iin"], unique=False)
        batch_op.create_index("ix_persons_mother_iin", ["mother_iin"], unique=False)
        batch_op.create_index(
            "ix_persons_name_birth", ["surname_key", "birth_date", "given_key"], unique=False
        )

    op.create_table(
        "refresh_tokens",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=36), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_refresh_tokens_family", ["family_id"], unique=False)

    op.create_table(
        "signature_challenges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sms_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_sms_outbox_phone", ["phone", "id"], unique=False)
        batch_op.create_index(
            "ix_sms_outbox_unsent",
            ["id"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.create_table(
        "token_families",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("token_families", schema=None) as batch_op:
        batch_op.create_index("ix_token_families_subject", ["subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("token_families", schema=None) as batch_op:
        batch_op.drop_index("ix_token_families_subject")

    op.drop_table("token_families")
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_sms_outbox_unsent",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )
        batch_op.drop_index("ix_sms_outbox_phone")

    op.drop_table("sms_outbox")
    op.drop_table("signature_challenges")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_refresh_tokens_family")

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index("ix_persons_name_birth")
        batch_op.drop_index("ix_persons_mother_iin")
        batch_op.drop_index("ix_persons_father_iin")

    op.drop_table("persons")
    op.drop_table("person_requests")
    with op.batch_alter_table("otp_challenges", schema=None) as batch_op:
        batch_op.drop_index("ix_otp_challenges_iin_created")

    op.drop_table("otp_challenges")
    op.drop_table("oauth_clients")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_iin_at")

    op.drop_table("login_attempts")
    op.drop_table("issuer_keys")
    op.drop_table("iin_serials")
    op.drop_table("disclosures")
    op.drop_table("credentials")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_iin_agency")
        batch_op.drop_index("ix_consents_agency")

    op.drop_table("consents")
    op.drop_table("client_assertions")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_holder")

    op.drop_table("certificates")
    op.drop_table("ca_roots")
