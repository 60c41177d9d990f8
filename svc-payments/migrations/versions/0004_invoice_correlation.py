"""invoices.correlation_id: the process an invoice was issued for (DESIGN §5)

Its later events (paid at the bank, refunded, expired, cancelled) carry it as their
correlationid. Rows issued before this revision keep NULL: their events are correlated with the
request or event at hand, as before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correlation_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("correlation_id")
