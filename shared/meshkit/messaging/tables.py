"""Outbox and inbox tables; every service's first migration creates them (see meshkit.migrations)."""

from __future__ import annotations

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

messaging_metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY
_ID = ROW_ID

outbox = Table(
    "outbox",
    messaging_metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
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
# the relay only ever scans unsent rows in id order
Index(
    "ix_outbox_unsent",
    outbox.c.id,
    postgresql_where=outbox.c.sent_at.is_(None),
    sqlite_where=outbox.c.sent_at.is_(None),
)
Index("ix_outbox_sent_at", outbox.c.sent_at)

inbox = Table(
    "inbox",
    messaging_metadata,
    Column("consumer_group", String(200), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("event_type", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)
