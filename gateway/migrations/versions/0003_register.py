"""the Unified Register: members, OpenAPI documents, public services, grants, outages

Revision ID: 0003
Revises: 0001 (the lead re-chains it after the routed exchange's 0002 at merge)
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_agency_outages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("agency", sa.String(length=50), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_register_agency_outages", "register_agency_outages", ["agency", "started_at"]
    )

    op.create_table(
        "register_grants",
        sa.Column("client", sa.String(length=50), nullable=False),
        sa.Column("operation_id", sa.String(length=400), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client", "operation_id"),
    )
    op.create_table(
        "register_members",
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("instance", sa.String(length=20), nullable=False),
        sa.Column("member_class", sa.String(length=10), nullable=False),
        sa.Column("member_code", sa.String(length=20), nullable=False),
        sa.Column("name_kk", sa.String(length=300), nullable=False),
        sa.Column("name_ru", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("base_urls", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.Boolean(), nullable=False),
        sa.Column("public_prefixes", sa.JSON(), nullable=False),
        sa.Column("declared_operations", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint(
            "instance", "member_class", "member_code", "code", name="uq_register_xroad"
        ),
    )
    op.create_table(
        "register_service_outages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("service_code", sa.String(length=50), nullable=False),
        sa.Column("agency", sa.String(length=50), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_register_service_outages", "register_service_outages", ["service_code", "started_at"]
    )

    op.create_table(
        "register_state",
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "register_openapi",
        sa.Column("agency", sa.String(length=50), nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency"],
            ["register_members.code"],
        ),
        sa.PrimaryKeyConstraint("agency"),
    )
    op.create_table(
        "register_services",
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("agency", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name_kk", sa.String(length=500), nullable=False),
        sa.Column("name_ru", sa.String(length=500), nullable=False),
        sa.Column("name_en", sa.String(length=500), nullable=False),
        sa.Column("description_kk", sa.Text(), nullable=False),
        sa.Column("description_ru", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("fee_tiyn", sa.BigInteger(), nullable=False),
        sa.Column("sla_amount", sa.Integer(), nullable=False),
        sa.Column("sla_unit", sa.String(length=20), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("citizen_facing", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("subject_param", sa.String(length=100), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency"],
            ["register_members.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_register_services_agency_kind", "register_services", ["agency", "kind"])


def downgrade() -> None:
    for index, table in [
        ("ix_register_services_agency_kind", "register_services"),
        ("ix_register_service_outages", "register_service_outages"),
        ("ix_register_agency_outages", "register_agency_outages"),
    ]:
        op.drop_index(index, table_name=table)
    for table in [
        "register_services",
        "register_openapi",
        "register_state",
        "register_service_outages",
        "register_members",
        "register_grants",
        "register_agency_outages",
    ]:
        op.drop_table(table)
