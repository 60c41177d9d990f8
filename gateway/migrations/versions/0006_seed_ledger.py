"""register: the seed's ledger — default grants offered, services as last seeded

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_seeded_grants",
        sa.Column("client", sa.String(length=50), nullable=False),
        sa.Column("operation_id", sa.String(length=400), nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client", "operation_id"),
    )
    op.create_table(
        "register_seeded_services",
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("register_seeded_services")
    op.drop_table("register_seeded_grants")
