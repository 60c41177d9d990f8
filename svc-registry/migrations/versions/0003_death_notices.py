"""death notices: medical death notices filed by agencies; the death act links its notice
and its declarant

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "death_notices",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("iin", sa.String(12), nullable=False),
        sa.Column("open_iin", sa.String(12), nullable=True, unique=True),
        sa.Column("date_of_death", sa.Date, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("issued_by", sa.String(200), nullable=False),
        sa.Column("cause", sa.String(300), nullable=True),
        sa.Column("filed_at", TZ, nullable=False),
        sa.Column("filed_by", sa.String(100), nullable=False),
        sa.Column("act_number", sa.String(40), nullable=True),
        sa.Column("consumed_at", TZ, nullable=True),
    )
    op.create_index("ix_death_notices_iin", "death_notices", ["iin"])
    with op.batch_alter_table("death_acts") as batch:
        batch.add_column(sa.Column("declarant_iin", sa.String(12), nullable=True))
        batch.add_column(sa.Column("death_notice_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("death_acts") as batch:
        batch.drop_column("death_notice_id")
        batch.drop_column("declarant_iin")
    op.drop_table("death_notices")
