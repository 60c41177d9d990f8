"""Tables of the registry database (SQLAlchemy Core). Migrations in ``migrations/versions``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

from meshkit.db import ROW_ID
from meshkit.idempotency import idempotency_table

metadata = MetaData()

_ID = ROW_ID

# named counters: act numbers per year, BIN serials per YYMM+type+kind, certificate numbers
counters = Table(
    "counters",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Idempotency-Key of a caller (scope) for an operation → the resource it created
idempotency_keys = idempotency_table(metadata, with_operation=True, resource_id_length=100)

birth_acts = Table(
    "birth_acts",
    metadata,
    Column("act_number", String(40), primary_key=True),
    Column("child_iin", String(12), nullable=False, unique=True),
    Column("surname", String(100), nullable=False),
    Column("given_name", String(100), nullable=False),
    Column("patronymic", String(100), nullable=True),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(6), nullable=False),
    Column("place", String(200), nullable=False),
    Column("mother_iin", String(12), nullable=False, index=True),
    Column("father_iin", String(12), nullable=True, index=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("registered_by", String(100), nullable=False),
)

death_acts = Table(
    "death_acts",
    metadata,
    Column("act_number", String(40), primary_key=True),
    Column("iin", String(12), nullable=False, unique=True),
    Column("date_of_death", Date, nullable=False),
    Column("place", String(200), nullable=False),
    Column("cause", String(300), nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("registered_by", String(100), nullable=False),
    # the citizen who declared it (NULL: an agency registered it)
    Column("declarant_iin", String(12), nullable=True),
    Column("death_notice_id", String(36), nullable=True),
)

# medical death notices filed by agencies; the death act consumes (links) its notice
death_notices = Table(
    "death_notices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("iin", String(12), nullable=False, index=True),
    # = iin while the notice is open, NULL once consumed: one open notice per person
    Column("open_iin", String(12), nullable=True, unique=True),
    Column("date_of_death", Date, nullable=False),
    Column("place", String(200), nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("cause", String(300), nullable=True),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("filed_by", String(100), nullable=False),
    Column("act_number", String(40), nullable=True),
    Column("consumed_at", DateTime(timezone=True), nullable=True),
)

legal_entities = Table(
    "legal_entities",
    metadata,
    Column("bin", String(12), primary_key=True),
    Column("name_kk", String(300), nullable=False),
    Column("name_ru", String(300), nullable=False),
    Column("search_name", String(700), nullable=False, index=True),
    Column("legal_form", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("director_iin", String(12), nullable=False, index=True),
    Column("address", String(300), nullable=False),
    Column("activity_codes", JSON, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("application_ref", String(100), nullable=True),
    Column("status_reason", String(500), nullable=True),
    Column("status_effective_date", Date, nullable=True),
)

legal_entity_founders = Table(
    "legal_entity_founders",
    metadata,
    Column("bin", String(12), ForeignKey("legal_entities.bin"), primary_key=True),
    Column("founder_id", String(12), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("share_num", BigInteger, nullable=False),
    Column("share_den", BigInteger, nullable=False),
    Index("ix_legal_entity_founders_founder_id", "founder_id"),
)

legal_entity_status_history = Table(
    "legal_entity_status_history",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("bin", String(12), ForeignKey("legal_entities.bin"), nullable=False, index=True),
    Column("old_status", String(20), nullable=False),
    Column("new_status", String(20), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(100), nullable=False),
)

properties = Table(
    "properties",
    metadata,
    Column("cadastral_number", String(40), primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("address", String(300), nullable=False),
    Column("area_m2", Numeric(12, 2), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

property_owners = Table(
    "property_owners",
    metadata,
    Column(
        "cadastral_number",
        String(40),
        ForeignKey("properties.cadastral_number"),
        primary_key=True,
    ),
    Column("holder_id", String(12), primary_key=True),
    Column("share_num", BigInteger, nullable=False),
    Column("share_den", BigInteger, nullable=False),
    Index("ix_property_owners_holder_id", "holder_id"),
)

encumbrances = Table(
    "encumbrances",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "cadastral_number",
        String(40),
        ForeignKey("properties.cadastral_number"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(20), nullable=False),
    Column("imposed_by", String(200), nullable=False),
    Column("basis", String(500), nullable=True),
    Column("imposed_at", DateTime(timezone=True), nullable=False),
    Column("lifts_at", DateTime(timezone=True), nullable=True),
    Column("released_at", DateTime(timezone=True), nullable=True),
    Column("release_reason", String(500), nullable=True),
)

# one row per notarial sale act the registry has decided on: the act-number idempotency
property_transfers = Table(
    "property_transfers",
    metadata,
    Column("act_number", String(60), primary_key=True),
    Column("cadastral_number", String(40), nullable=False, index=True),
    Column("outcome", String(20), nullable=False),  # transferred | rejected
    Column("reason", String(500), nullable=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

certificates = Table(
    "certificates",
    metadata,
    Column("number", String(60), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("subject_id", String(12), nullable=False, index=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("requested_by", String(100), nullable=False),
)
