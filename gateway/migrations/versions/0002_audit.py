"""audit log of the routed exchange (hash chain per gateway instance)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("instance_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("user", sa.String(32)),
        sa.Column("subject", sa.String(64)),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("operation_id", sa.String(255)),
        sa.Column("service_code", sa.String(64)),
        sa.Column("purpose", sa.String(500)),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.String(2048), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("latency_us", sa.BigInteger, nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("response_sha256", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_request_id", "audit_log", ["request_id"])
    op.create_index("ix_audit_log_client_at", "audit_log", ["client", "at_us"])
    op.create_index("ix_audit_log_subject_at", "audit_log", ["subject", "at_us"])
    op.create_index("ix_audit_log_at", "audit_log", ["at_us"])


def downgrade() -> None:
    op.drop_table("audit_log")
