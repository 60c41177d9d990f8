"""license types, applications with their timeline, licenses with their history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "license_types",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_kk", sa.String(300), nullable=False),
        sa.Column("name_ru", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("authority_code", sa.String(60), nullable=False),
        sa.Column("authority_kk", sa.String(300), nullable=False),
        sa.Column("authority_ru", sa.String(300), nullable=False),
        sa.Column("authority_en", sa.String(300), nullable=False),
        sa.Column("state_duty_tiyn", sa.BigInteger, nullable=False),
        sa.Column("kbk", sa.String(6), nullable=False),
        sa.Column("sla_working_days", sa.Integer, nullable=False),
        sa.Column("validity_months", sa.Integer, nullable=True),
        sa.Column("requirements", sa.JSON, nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("legal_basis", sa.String(500), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "license_type", sa.String(40), sa.ForeignKey("license_types.code"), nullable=False
        ),
        sa.Column("applicant_iin", sa.String(12), nullable=False),
        sa.Column("applicant_bin", sa.String(12), nullable=True),
        sa.Column("holder", sa.String(12), nullable=False),
        sa.Column("holder_name", sa.String(300), nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("sla_working_days", sa.Integer, nullable=False),
        sa.Column("amount_tiyn", sa.BigInteger, nullable=False),
        sa.Column("needs_officer", sa.Boolean, nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("invoice_id", sa.String(100), nullable=True),
        sa.Column("paid_at", TS, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("approved", sa.Boolean, nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("overdue_at", TS, nullable=True),
        sa.Column("license_number", sa.String(40), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.UniqueConstraint("submitted_by", "idempotency_key", name="uq_applications_idempotency"),
    )
    op.create_index("ix_applications_holder", "applications", ["holder"])
    op.create_index("ix_applications_applicant_iin", "applications", ["applicant_iin"])
    op.create_index("ix_applications_status_due", "applications", ["status", "due_at"])
    op.create_table(
        "application_steps",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "application_id", sa.String(40), sa.ForeignKey("applications.id"), nullable=False
        ),
        sa.Column("step", sa.String(60), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_application_steps_application", "application_steps", ["application_id"])
    op.create_table(
        "licenses",
        sa.Column("number", sa.String(40), primary_key=True),
        sa.Column(
            "license_type", sa.String(40), sa.ForeignKey("license_types.code"), nullable=False
        ),
        sa.Column("holder", sa.String(12), nullable=False),
        sa.Column("holder_kind", sa.String(20), nullable=False),
        sa.Column("holder_name", sa.String(300), nullable=True),
        sa.Column("applicant_iin", sa.String(12), nullable=False),
        sa.Column(
            "application_id", sa.String(40), sa.ForeignKey("applications.id"), nullable=False
        ),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("status_changed_at", TS, nullable=True),
        sa.Column("document", sa.Text, nullable=True),
        sa.UniqueConstraint("application_id", name="uq_licenses_application"),
    )
    op.create_index("ix_licenses_holder", "licenses", ["holder"])
    op.create_table(
        "license_history",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(40), sa.ForeignKey("licenses.number"), nullable=False),
        sa.Column("step", sa.String(60), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_license_history_number", "license_history", ["number"])
    op.create_table(
        "license_counters",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for index, table in [
        ("ix_license_history_number", "license_history"),
        ("ix_licenses_holder", "licenses"),
        ("ix_application_steps_application", "application_steps"),
        ("ix_applications_status_due", "applications"),
        ("ix_applications_applicant_iin", "applications"),
        ("ix_applications_holder", "applications"),
    ]:
        op.drop_index(index, table_name=table)
    for table in [
        "license_counters",
        "license_history",
        "licenses",
        "application_steps",
        "applications",
        "license_types",
    ]:
        op.drop_table(table)
