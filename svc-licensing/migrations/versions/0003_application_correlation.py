"""applications.correlation_id: the process an application was filed in (DESIGN §5)

A single-window application's id when it was filed as one of its steps, else its own id; every
event of the application carries it. Rows filed before this revision were correlated with their
own id: that is what they get.

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
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correlation_id", sa.String(length=128), nullable=True))
    op.execute("UPDATE applications SET correlation_id = id WHERE correlation_id IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("correlation_id")
