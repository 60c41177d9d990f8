"""The sandbox acquirer's own records (what a bank would keep on its side)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text

sandbox_metadata = MetaData()
_TS = DateTime(timezone=True)

sandbox_payments = Table(
    "sandbox_acquirer_payments",
    sandbox_metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_payment_id", String(40), nullable=False, unique=True),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("description", String(300), nullable=False),
    Column("status", String(20), nullable=False),  # pending | captured | declined
    Column("refunded_tiyn", BigInteger, nullable=False, server_default="0"),
    Column("created_at", _TS, nullable=False),
    Column("decided_at", _TS, nullable=True),
)

sandbox_refunds = Table(
    "sandbox_acquirer_refunds",
    sandbox_metadata,
    Column("id", String(40), primary_key=True),
    Column("acquirer_payment_id", String(40), nullable=False),
    Column("merchant_refund_id", String(40), nullable=False, unique=True),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),  # completed | failed
    Column("created_at", _TS, nullable=False),
)

# every notification the bank owes the merchant, with its delivery state
sandbox_notifications = Table(
    "sandbox_acquirer_notifications",
    sandbox_metadata,
    Column("event_id", String(40), primary_key=True),
    Column("payload", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_status", Integer, nullable=True),
    Column("delivered_at", _TS, nullable=True),
    Column("created_at", _TS, nullable=False),
)
Index("ix_sandbox_notifications_undelivered", sandbox_notifications.c.delivered_at)
