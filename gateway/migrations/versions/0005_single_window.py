"""single window: proactive offers and the citizens' notification inbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("citizen_iin", sa.String(length=12), nullable=False),
        sa.Column("service_code", sa.String(length=50), nullable=False),
        sa.Column("rule_code", sa.String(length=50), nullable=False),
        sa.Column("trigger_event_id", sa.String(length=64), nullable=False),
        sa.Column("trigger_event_type", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("citizen_supplies", sa.JSON(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("application_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "trigger_event_id", "rule_code", "citizen_iin", name="uq_offers_trigger"
        ),
    )
    op.create_index("ix_offers_citizen", "offers", ["citizen_iin", "created_at"])

    op.create_table(
        "notifications",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("citizen_iin", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("ref_type", sa.String(length=30), nullable=True),
        sa.Column("ref_id", sa.String(length=64), nullable=True),
        sa.Column("source_event_id", sa.String(length=64), nullable=False),
        sa.Column("important", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sms_status", sa.String(length=20), nullable=True),
        sa.Column("sms_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sms_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "source_event_id", "kind", "citizen_iin", name="uq_notifications_source"
        ),
    )
    op.create_index("ix_notifications_citizen", "notifications", ["citizen_iin", "id"])
    op.create_index("ix_notifications_sms", "notifications", ["sms_status", "id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_sms", table_name="notifications")
    op.drop_index("ix_notifications_citizen", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_offers_citizen", table_name="offers")
    op.drop_table("offers")
