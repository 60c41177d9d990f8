"""Tables of applications and their process state (created by migration 0004_applications)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from egov_gateway.orm import metadata
from meshkit.db import ROW_ID

_ID = ROW_ID

applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("service_code", String(50), nullable=False),
    Column("agency", String(50), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("applicant_iin", String(12), nullable=False),
    Column("origin", String(32), nullable=False),
    Column("status", String(20), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("context", JSON, nullable=False),
    Column("result", JSON, nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("overdue_at", DateTime(timezone=True), nullable=True),
    Column("rating", Integer, nullable=True),
    Column("rating_comment", Text, nullable=True),
    Column("rated_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_applications_applicant", applications.c.applicant_iin, applications.c.submitted_at)
Index("ix_applications_status_due", applications.c.status, applications.c.due_at)
Index("ix_applications_service", applications.c.service_code, applications.c.submitted_at)

steps = Table(
    "application_steps",
    metadata,
    Column("application_id", String(36), ForeignKey("applications.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("operation", String(400), nullable=False),
    Column("status", String(20), nullable=False),
    Column("request", JSON, nullable=True),
    Column("result", JSON, nullable=True),
    Column("event", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

timeline = Table(
    "application_timeline",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("application_id", String(36), ForeignKey("applications.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("step", String(100), nullable=True),
    Column("status", String(20), nullable=True),
    Column("reason", Text, nullable=True),
)
Index("ix_application_timeline_app", timeline.c.application_id, timeline.c.id)

waits = Table(
    "application_waits",
    metadata,
    Column("event_type", String(200), primary_key=True),
    Column("match_key", String(200), primary_key=True),
    Column("application_id", String(36), ForeignKey("applications.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_application_waits_app", waits.c.application_id)
