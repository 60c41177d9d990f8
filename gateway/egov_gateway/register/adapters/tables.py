"""Tables of the Unified Register (created by migration 0003_register)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
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

members = Table(
    "register_members",
    metadata,
    Column("code", String(50), primary_key=True),
    Column("instance", String(20), nullable=False),
    Column("member_class", String(10), nullable=False),
    Column("member_code", String(20), nullable=False),
    Column("name_kk", String(300), nullable=False),
    Column("name_ru", String(300), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("base_urls", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("provider", Boolean, nullable=False),
    Column("public_prefixes", JSON, nullable=False),
    Column("declared_operations", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("instance", "member_class", "member_code", "code", name="uq_register_xroad"),
)

openapi_documents = Table(
    "register_openapi",
    metadata,
    Column("agency", String(50), ForeignKey("register_members.code"), primary_key=True),
    Column("document", Text, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("fetched_at", DateTime(timezone=True), nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
)

services = Table(
    "register_services",
    metadata,
    Column("code", String(50), primary_key=True),
    Column("agency", String(50), ForeignKey("register_members.code"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("name_kk", String(500), nullable=False),
    Column("name_ru", String(500), nullable=False),
    Column("name_en", String(500), nullable=False),
    Column("description_kk", Text, nullable=False),
    Column("description_ru", Text, nullable=False),
    Column("description_en", Text, nullable=False),
    Column("operations", JSON, nullable=False),
    Column("input_schema", JSON, nullable=False),
    Column("fee_tiyn", BigInteger, nullable=False),
    Column("sla_amount", Integer, nullable=False),
    Column("sla_unit", String(20), nullable=False),
    Column("channels", JSON, nullable=False),
    Column("citizen_facing", Boolean, nullable=False),
    Column("public", Boolean, nullable=False),
    Column("subject_param", String(100), nullable=True),
    Column("recipients", JSON, nullable=False),
    Column("steps", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    # case-folded names in all three languages: one LIKE serves q on SQLite and PostgreSQL
    Column("search_text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_register_services_agency_kind", services.c.agency, services.c.kind)

grants = Table(
    "register_grants",
    metadata,
    Column("client", String(50), primary_key=True),
    Column("operation_id", String(400), primary_key=True),
    Column("granted_at", DateTime(timezone=True), nullable=False),
)

# Every default grant the seed has ever offered this register: a default added by a later
# release is granted once on upgrade; one an operator revoked stays revoked.
seeded_grants = Table(
    "register_seeded_grants",
    metadata,
    Column("client", String(50), primary_key=True),
    Column("operation_id", String(400), primary_key=True),
    Column("seeded_at", DateTime(timezone=True), nullable=False),
)

# The digest of each public service as the seed last wrote it: a later release's definition
# replaces a stored one only if nobody has edited it since.
seeded_services = Table(
    "register_seeded_services",
    metadata,
    Column("code", String(50), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("seeded_at", DateTime(timezone=True), nullable=False),
)

agency_outages = Table(
    "register_agency_outages",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("agency", String(50), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=True),
)
Index("ix_register_agency_outages", agency_outages.c.agency, agency_outages.c.started_at)

service_outages = Table(
    "register_service_outages",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("service_code", String(50), nullable=False),
    Column("agency", String(50), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)
Index("ix_register_service_outages", service_outages.c.service_code, service_outages.c.started_at)

# one row: bumped by every change so other gateway instances reload their snapshot
register_state = Table(
    "register_state",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
