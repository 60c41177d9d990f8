"""The notifications table (migration 0005_single_window)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from egov_gateway.orm import metadata
from meshkit.db import ROW_ID

_ID = ROW_ID

notifications = Table(
    "notifications",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("citizen_iin", String(12), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("title", JSON, nullable=False),
    Column("body", JSON, nullable=False),
    Column("ref_type", String(30), nullable=True),
    Column("ref_id", String(64), nullable=True),
    Column("source_event_id", String(64), nullable=False),
    Column("important", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
    # SMS for the important ones: pending → sent | failed (null: no SMS)
    Column("sms_status", String(20), nullable=True),
    Column("sms_attempts", Integer, nullable=False, server_default="0"),
    Column("sms_error", Text, nullable=True),
    # one notification per event, kind and citizen: redelivery never notifies twice
    UniqueConstraint("source_event_id", "kind", "citizen_iin", name="uq_notifications_source"),
)
Index("ix_notifications_citizen", notifications.c.citizen_iin, notifications.c.id)
Index("ix_notifications_sms", notifications.c.sms_status, notifications.c.id)
