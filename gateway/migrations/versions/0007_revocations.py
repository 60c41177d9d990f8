"""gateway: revoked sessions and retired signing keys of identity (the deny list's truth)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "gateway_revocations",
        sa.Column("seq", _ID, autoincrement=True, nullable=False),
        sa.Column("revocation_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("iin", sa.String(length=32), nullable=True),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column("kid", sa.String(length=128), nullable=True),
        sa.Column("revoked_at_us", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("revocation_key", name="uq_gateway_revocations_key"),
    )
    op.create_index(
        "ix_gateway_revocations_recorded", "gateway_revocations", ["recorded_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_gateway_revocations_recorded", table_name="gateway_revocations")
    op.drop_table("gateway_revocations")
