"""notaries, notarial acts, their parties, signatures, steps and number counters

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
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notaries",
        sa.Column("iin", sa.String(12), primary_key=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("license_number", sa.String(40), nullable=False, unique=True),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("registered_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_index("ix_notaries_region", "notaries", ["region"])
    op.create_table(
        "acts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("notary_iin", sa.String(12), sa.ForeignKey("notaries.iin"), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("number", sa.String(24), nullable=True, unique=True),
        sa.Column("verification_code", sa.String(16), nullable=True),
        sa.Column("terms", sa.JSON, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("fee_tiyn", sa.BigInteger, nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=True),
        sa.Column("party_names", sa.JSON, nullable=False),
        sa.Column("property_address", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("checks_passed_at", _TS, nullable=True),
        sa.Column("fee_paid_at", _TS, nullable=True),
        sa.Column("registered_at", _TS, nullable=True),
        sa.Column("executed_at", _TS, nullable=True),
        sa.Column("rejected_at", _TS, nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_acts_notary_iin", "acts", ["notary_iin"])
    op.create_index("ix_acts_status", "acts", ["status"])
    op.create_index("ix_acts_invoice_id", "acts", ["invoice_id"])
    op.create_table(
        "act_parties",
        sa.Column(
            "act_id",
            sa.String(36),
            sa.ForeignKey("acts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("iin", sa.String(12), primary_key=True),
        sa.Column("role", sa.String(20), primary_key=True),
    )
    op.create_index("ix_act_parties_iin", "act_parties", ["iin"])
    op.create_table(
        "act_signatures",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "act_id", sa.String(36), sa.ForeignKey("acts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("signer_iin", sa.String(12), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("jws", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("signed_at", _TS, nullable=True),
        sa.Column("certificate_serial", sa.String(80), nullable=True),
        sa.Column("accepted_at", _TS, nullable=False),
        sa.UniqueConstraint(
            "act_id", "role", "signer_iin", "content_sha256", name="uq_act_signature"
        ),
    )
    op.create_index("ix_act_signatures_act", "act_signatures", ["act_id"])
    op.create_table(
        "act_steps",
        sa.Column(
            "act_id",
            sa.String(36),
            sa.ForeignKey("acts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_table(
        "act_number_counters",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_value", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("act_number_counters", "act_steps", "act_signatures", "act_parties", "acts"):
        op.drop_table(table)
    op.drop_table("notaries")
