"""acts.correlation_id: the process an act was drafted in (DESIGN §5)

A single-window application's id when the act was drafted as one of its steps, else the drafting
request's id; the act's later events (registered on the last signature, executed on the
registry's transfer) carry it as their correlationid. Acts drafted before this revision keep
NULL: their events are correlated with the request or event at hand, as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 05:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correlation_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("acts", schema=None) as batch_op:
        batch_op.drop_column("correlation_id")
