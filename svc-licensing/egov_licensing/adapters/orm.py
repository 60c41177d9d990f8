"""Tables of the licensing database (SQLAlchemy Core; migrations/env.py targets ``metadata``)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from meshkit.db import ROW_ID

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY
_ID = ROW_ID
TS = DateTime(timezone=True)

license_types = Table(
    "license_types",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name_kk", String(300), nullable=False),
    Column("name_ru", String(300), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("authority_code", String(60), nullable=False),
    Column("authority_kk", String(300), nullable=False),
    Column("authority_ru", String(300), nullable=False),
    Column("authority_en", String(300), nullable=False),
    Column("state_duty_tiyn", BigInteger, nullable=False),
    Column("kbk", String(6), nullable=False),
    Column("sla_working_days", Integer, nullable=False),
    Column("validity_months", Integer, nullable=True),
    Column("requirements", JSON, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("legal_basis", String(500), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=true()),
)

applications = Table(
    "applications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("license_type", String(40), ForeignKey("license_types.code"), nullable=False),
    Column("applicant_iin", String(12), nullable=False),
    Column("applicant_bin", String(12), nullable=True),
    Column("holder", String(12), nullable=False),
    Column("holder_name", String(300), nullable=True),
    Column("details", JSON, nullable=False),
    Column("status", String(30), nullable=False),
    Column("submitted_at", TS, nullable=False),
    Column("submitted_by", String(100), nullable=False),
    Column("due_at", TS, nullable=False),
    Column("sla_working_days", Integer, nullable=False),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("needs_officer", Boolean, nullable=False),
    Column("checks", JSON, nullable=False),
    Column("invoice_id", String(100), nullable=True),
    Column("paid_at", TS, nullable=True),
    Column("decided_at", TS, nullable=True),
    Column("approved", Boolean, nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("overdue_at", TS, nullable=True),
    Column("license_number", String(40), nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    # the process it was filed in: the correlationid of all its events (older rows: own id)
    Column("correlation_id", String(128), nullable=True),
    UniqueConstraint("submitted_by", "idempotency_key", name="uq_applications_idempotency"),
)
Index("ix_applications_holder", applications.c.holder)
Index("ix_applications_applicant_iin", applications.c.applicant_iin)
# the SLA watcher scans open applications by due time
Index("ix_applications_status_due", applications.c.status, applications.c.due_at)

application_steps = Table(
    "application_steps",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("application_id", String(40), ForeignKey("applications.id"), nullable=False),
    Column("step", String(60), nullable=False),
    Column("at", TS, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text, nullable=True),
)
Index("ix_application_steps_application", application_steps.c.application_id)

licenses = Table(
    "licenses",
    metadata,
    Column("number", String(40), primary_key=True),
    Column("license_type", String(40), ForeignKey("license_types.code"), nullable=False),
    Column("holder", String(12), nullable=False),
    Column("holder_kind", String(20), nullable=False),
    Column("holder_name", String(300), nullable=True),
    Column("applicant_iin", String(12), nullable=False),
    Column("application_id", String(40), ForeignKey("applications.id"), nullable=False),
    Column("issued_at", TS, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("status", String(20), nullable=False),
    Column("status_reason", Text, nullable=True),
    Column("status_changed_at", TS, nullable=True),
    Column("document", Text, nullable=True),
    # one decision per application: never two licenses for one application
    UniqueConstraint("application_id", name="uq_licenses_application"),
)
Index("ix_licenses_holder", licenses.c.holder)

license_history = Table(
    "license_history",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("number", String(40), ForeignKey("licenses.number"), nullable=False),
    Column("step", String(60), nullable=False),
    Column("at", TS, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text, nullable=True),
)
Index("ix_license_history_number", license_history.c.number)

license_counters = Table(
    "license_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", BigInteger, nullable=False),
)
