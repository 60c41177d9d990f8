"""Tables of the notary database (SQLAlchemy Core; migrations/versions/0002_notary.py)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from meshkit.db import ROW_ID, UTCDateTime

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY
_ID = ROW_ID


notaries = Table(
    "notaries",
    metadata,
    Column("iin", String(12), primary_key=True),
    Column("full_name", String(200), nullable=False),
    Column("license_number", String(40), nullable=False, unique=True),
    Column("region", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("status_reason", Text, nullable=True),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

acts = Table(
    "acts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("notary_iin", String(12), ForeignKey("notaries.iin"), nullable=False, index=True),
    Column("status", String(30), nullable=False, index=True),
    Column("status_reason", Text, nullable=True),
    Column("number", String(24), nullable=True, unique=True),
    Column("verification_code", String(16), nullable=True),
    Column("terms", JSON, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("fee_tiyn", BigInteger, nullable=False),
    Column("invoice_id", String(64), nullable=True, index=True),
    Column("party_names", JSON, nullable=False),
    Column("property_address", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("checks_passed_at", UTCDateTime, nullable=True),
    Column("fee_paid_at", UTCDateTime, nullable=True),
    Column("registered_at", UTCDateTime, nullable=True),
    Column("executed_at", UTCDateTime, nullable=True),
    Column("rejected_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    # the process it was drafted in: the correlationid of its later events (NULL: older)
    Column("correlation_id", String(128), nullable=True),
    Column("version", Integer, nullable=False),
)

act_parties = Table(
    "act_parties",
    metadata,
    Column("act_id", String(36), ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True),
    Column("iin", String(12), primary_key=True),
    Column("role", String(20), primary_key=True),
    Index("ix_act_parties_iin", "iin"),
)

act_signatures = Table(
    "act_signatures",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("act_id", String(36), ForeignKey("acts.id", ondelete="CASCADE"), nullable=False),
    Column("signer_iin", String(12), nullable=False),
    Column("role", String(10), nullable=False),
    Column("jws", Text, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("signed_at", UTCDateTime, nullable=True),
    Column("certificate_serial", String(80), nullable=True),
    Column("accepted_at", UTCDateTime, nullable=False),
    UniqueConstraint("act_id", "role", "signer_iin", "content_sha256", name="uq_act_signature"),
    Index("ix_act_signatures_act", "act_id"),
)

act_steps = Table(
    "act_steps",
    metadata,
    Column("act_id", String(36), ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("step", String(40), nullable=False),
    Column("status", String(30), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("reason", Text, nullable=True),
)

# one row per year: the last act number allocated (N-<year>-<sequence>)
act_number_counters = Table(
    "act_number_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_value", Integer, nullable=False),
)
