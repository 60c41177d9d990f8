"""Revision ``0001`` of every service's migrations: the outbox, inbox and mesh echo tables.

Each service's ``migrations/versions/0001_messaging.py`` star-imports this module. The tables
are declared here as they were at version 1, not taken from ``meshkit.messaging.tables``: a
later change to the live tables must ship as a new revision, and databases created from this
one must stay what they are.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from meshkit.db import ROW_ID

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def v1_metadata() -> tuple[MetaData, MetaData]:
    """(messaging, echo) tables of version 1, in the order they are created."""
    messaging = MetaData()
    outbox = Table(
        "outbox",
        messaging,
        Column("id", ROW_ID, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("message_key", String(200), nullable=True),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text, nullable=True),
    )
    Index(
        "ix_outbox_unsent",
        outbox.c.id,
        postgresql_where=outbox.c.sent_at.is_(None),
        sqlite_where=outbox.c.sent_at.is_(None),
    )
    Index("ix_outbox_sent_at", outbox.c.sent_at)
    Table(
        "inbox",
        messaging,
        Column("consumer_group", String(200), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    echo = MetaData()
    Table(
        "mesh_echo_sent",
        echo,
        Column("id", String(64), primary_key=True),
        Column("message", String(500), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "mesh_echo_received",
        echo,
        Column("event_id", String(64), primary_key=True),
        Column("echo_id", String(64), nullable=False, index=True),
        Column("from_service", String(50), nullable=False),
        Column("message", String(500), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )
    return messaging, echo


def upgrade() -> None:
    bind = op.get_bind()
    for md in v1_metadata():
        md.create_all(bind=bind)


def downgrade() -> None:
    bind = op.get_bind()
    for md in reversed(v1_metadata()):
        md.drop_all(bind=bind)
