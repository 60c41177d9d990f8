"""The audit log table (migration 0002_audit)."""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from egov_gateway.orm import metadata

audit_log = Table(
    "audit_log",
    metadata,
    # one hash chain per gateway instance: (instance_id, seq) is the chain position
    Column("instance_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at_us", BigInteger, nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("client", String(64), nullable=False),
    Column("user", String(32)),
    Column("subject", String(64)),
    Column("agency", String(64), nullable=False),
    Column("operation_id", String(255)),
    Column("service_code", String(64)),
    Column("purpose", String(500)),
    Column("method", String(16), nullable=False),
    Column("path", String(2048), nullable=False),
    Column("status", Integer, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("latency_us", BigInteger, nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("response_sha256", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_request_id", "request_id"),
    Index("ix_audit_log_client_at", "client", "at_us"),
    Index("ix_audit_log_subject_at", "subject", "at_us"),
    Index("ix_audit_log_at", "at_us"),
)
