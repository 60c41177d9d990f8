"""The offers table (migration 0005_single_window)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, String, Table, UniqueConstraint

from egov_gateway.orm import metadata

offers = Table(
    "offers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("citizen_iin", String(12), nullable=False),
    Column("service_code", String(50), nullable=False),
    Column("rule_code", String(50), nullable=False),
    Column("trigger_event_id", String(64), nullable=False),
    Column("trigger_event_type", String(200), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("title", JSON, nullable=False),
    Column("citizen_supplies", JSON, nullable=False),
    Column("exclusive", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("application_id", String(36), nullable=True),
    # one offer per rule, event and citizen: a redelivered event can never offer twice
    UniqueConstraint("trigger_event_id", "rule_code", "citizen_iin", name="uq_offers_trigger"),
)
Index("ix_offers_citizen", offers.c.citizen_iin, offers.c.created_at)
