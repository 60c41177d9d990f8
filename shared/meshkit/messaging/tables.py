"""Outbox and inbox tables; every service's migrations create them (``meshkit.messaging_migration``)."""

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
    cast,
    null,
    select,
    union_all,
)
from sqlalchemy.sql import Subquery

from meshkit.db import ROW_ID

messaging_metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY
_ID = ROW_ID

# the events a unit of work wrote and the relay has not yet published, in id order; a
# published row moves to ``outbox_sent`` in the transaction that Kafka's acks let commit
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
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    # SQLite would otherwise hand the next event the id of one just moved out
    sqlite_autoincrement=True,
)

# what a published row carries over from the outbox to outbox_sent (and the journal shows)
CARRIED_COLUMNS = ("id", "event_id", "event_type", "topic", "message_key", "payload", "created_at")

# the published events of the last day (the relay's retention), for operators and tests:
# moving a row costs PostgreSQL half of what updating it in place did (an updated row's
# new version needs an entry in every index of the outbox)
outbox_sent = Table(
    "outbox_sent",
    messaging_metadata,
    Column("id", BigInteger, nullable=False),  # its id in the outbox
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("message_key", String(200), nullable=True),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
)
# rows arrive in sent_at order: a block-range index finds a day's end for the purge at
# almost no cost per insert (SQLite, without BRIN, gets a B-tree)
Index("ix_outbox_sent_sent_at", outbox_sent.c.sent_at, postgresql_using="brin")


def outbox_journal() -> Subquery:
    """Every event this database wrote over the retention window, published or not:
    (id, event_id, event_type, topic, message_key, payload, created_at, sent_at)."""
    return union_all(
        select(
            *(outbox.c[n] for n in CARRIED_COLUMNS),
            cast(null(), DateTime(timezone=True)).label("sent_at"),
        ),
        select(*(outbox_sent.c[n] for n in CARRIED_COLUMNS), outbox_sent.c.sent_at),
    ).subquery("outbox_journal")


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
