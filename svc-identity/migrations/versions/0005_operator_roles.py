"""credentials: roles (an operator's roles: register-admin, identity-admin, auditor,
centre-operator); the operators there were keep what they could do (centre-operator,
auditor) — review them (deploy/RUNBOOK.md, "Operator credentials")

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("roles", sa.String(200), nullable=False, server_default=""))
    op.execute("UPDATE credentials SET roles = 'auditor centre-operator' WHERE role = 'operator'")


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("roles")
