"""payouts: state allowances, paid at most once per (kind, subject)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a constraint to an existing table (the table is copied);
    # PostgreSQL gets plain ALTER TABLE statements
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allowance_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("subject_iin", sa.String(length=12), nullable=True))
        batch_op.create_unique_constraint(
            "uq_payouts_allowance_subject", ["allowance_kind", "subject_iin"]
        )


def downgrade() -> None:
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payouts_allowance_subject", type_="unique")
        batch_op.drop_column("subject_iin")
        batch_op.drop_column("allowance_kind")
