"""SMS delivery through a provider: attempts/failure of each text; the operator who asked
for a centre consent code

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sms_outbox") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("error", sa.String(200), nullable=True))
    with op.batch_alter_table("otp_challenges") as batch:
        batch.add_column(sa.Column("actor", sa.String(12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("otp_challenges") as batch:
        batch.drop_column("actor")
    with op.batch_alter_table("sms_outbox") as batch:
        batch.drop_column("error")
        batch.drop_column("failed_at")
        batch.drop_column("attempts")
