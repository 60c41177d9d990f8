"""registers: civil-status acts, legal entities, real estate, certificates, counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(100), primary_key=True),
        sa.Column("operation", sa.String(50), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "birth_acts",
        sa.Column("act_number", sa.String(40), primary_key=True),
        sa.Column("child_iin", sa.String(12), nullable=False, unique=True),
        sa.Column("surname", sa.String(100), nullable=False),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("patronymic", sa.String(100), nullable=True),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.String(6), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("mother_iin", sa.String(12), nullable=False),
        sa.Column("father_iin", sa.String(12), nullable=True),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("registered_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_birth_acts_mother_iin", "birth_acts", ["mother_iin"])
    op.create_index("ix_birth_acts_father_iin", "birth_acts", ["father_iin"])
    op.create_table(
        "death_acts",
        sa.Column("act_number", sa.String(40), primary_key=True),
        sa.Column("iin", sa.String(12), nullable=False, unique=True),
        sa.Column("date_of_death", sa.Date, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("cause", sa.String(300), nullable=True),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("registered_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "legal_entities",
        sa.Column("bin", sa.String(12), primary_key=True),
        sa.Column("name_kk", sa.String(300), nullable=False),
        sa.Column("name_ru", sa.String(300), nullable=False),
        sa.Column("search_name", sa.String(700), nullable=False),
        sa.Column("legal_form", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("director_iin", sa.String(12), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("activity_codes", sa.JSON, nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("application_ref", sa.String(100), nullable=True),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("status_effective_date", sa.Date, nullable=True),
    )
    op.create_index("ix_legal_entities_search_name", "legal_entities", ["search_name"])
    op.create_index("ix_legal_entities_director_iin", "legal_entities", ["director_iin"])
    op.create_table(
        "legal_entity_founders",
        sa.Column("bin", sa.String(12), sa.ForeignKey("legal_entities.bin"), primary_key=True),
        sa.Column("founder_id", sa.String(12), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("share_num", sa.BigInteger, nullable=False),
        sa.Column("share_den", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_legal_entity_founders_founder_id", "legal_entity_founders", ["founder_id"])
    op.create_table(
        "legal_entity_status_history",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("bin", sa.String(12), sa.ForeignKey("legal_entities.bin"), nullable=False),
        sa.Column("old_status", sa.String(20), nullable=False),
        sa.Column("new_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_legal_entity_status_history_bin", "legal_entity_status_history", ["bin"])
    op.create_table(
        "properties",
        sa.Column("cadastral_number", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("area_m2", sa.Numeric(12, 2), nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
    )
    op.create_table(
        "property_owners",
        sa.Column(
            "cadastral_number",
            sa.String(40),
            sa.ForeignKey("properties.cadastral_number"),
            primary_key=True,
        ),
        sa.Column("holder_id", sa.String(12), primary_key=True),
        sa.Column("share_num", sa.BigInteger, nullable=False),
        sa.Column("share_den", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_property_owners_holder_id", "property_owners", ["holder_id"])
    op.create_table(
        "encumbrances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "cadastral_number",
            sa.String(40),
            sa.ForeignKey("properties.cadastral_number"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("imposed_by", sa.String(200), nullable=False),
        sa.Column("basis", sa.String(500), nullable=True),
        sa.Column("imposed_at", TZ, nullable=False),
        sa.Column("lifts_at", TZ, nullable=True),
        sa.Column("released_at", TZ, nullable=True),
        sa.Column("release_reason", sa.String(500), nullable=True),
    )
    op.create_index("ix_encumbrances_cadastral_number", "encumbrances", ["cadastral_number"])
    op.create_table(
        "property_transfers",
        sa.Column("act_number", sa.String(60), primary_key=True),
        sa.Column("cadastral_number", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("processed_at", TZ, nullable=False),
    )
    op.create_index(
        "ix_property_transfers_cadastral_number", "property_transfers", ["cadastral_number"]
    )
    op.create_table(
        "certificates",
        sa.Column("number", sa.String(60), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(12), nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_certificates_subject_id", "certificates", ["subject_id"])


def downgrade() -> None:
    for table in (
        "certificates",
        "property_transfers",
        "encumbrances",
        "property_owners",
        "properties",
        "legal_entity_status_history",
        "legal_entity_founders",
        "legal_entities",
        "death_acts",
        "birth_acts",
        "idempotency_keys",
        "counters",
    ):
        op.drop_table(table)
