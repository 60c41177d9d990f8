"""Tables of the payments database (SQLAlchemy Core; migrations/env.py targets ``metadata``)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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
)

from meshkit.db import ROW_ID
from meshkit.idempotency import idempotency_table

metadata = MetaData()

_ID = ROW_ID
_TS = DateTime(timezone=True)

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("payer", String(12), nullable=False),
    Column("payer_representative_iin", String(12), nullable=True),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("kbk", String(6), nullable=False),
    Column("beneficiary_agency", String(50), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("reference", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("paid_tiyn", BigInteger, nullable=False, server_default="0"),
    Column("refunded_tiyn", BigInteger, nullable=False, server_default="0"),
    Column("refund_pending_tiyn", BigInteger, nullable=False, server_default="0"),
    Column("created_at", _TS, nullable=False),
    Column("paid_at", _TS, nullable=True),
    Column("closed_at", _TS, nullable=True),
    # the process it was issued for: the correlationid of its later events (NULL: older)
    Column("correlation_id", String(128), nullable=True),
)
Index("ix_invoices_payer", invoices.c.payer)
Index("ix_invoices_representative", invoices.c.payer_representative_iin)
Index("ix_invoices_beneficiary", invoices.c.beneficiary_agency, invoices.c.reference)
Index("ix_invoices_status_due", invoices.c.status, invoices.c.due_date)

payments = Table(
    "payments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("invoice_id", String(40), ForeignKey("invoices.id"), nullable=False, index=True),
    Column("acquirer", String(30), nullable=False),
    Column("acquirer_payment_id", String(100), nullable=True),
    Column("payment_url", String(500), nullable=True),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("completed_at", _TS, nullable=True),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("invoice_id", String(40), ForeignKey("invoices.id"), nullable=False, index=True),
    Column("payment_id", String(40), ForeignKey("payments.id"), nullable=False),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("reason", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("completed_at", _TS, nullable=True),
)

payouts = Table(
    "payouts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("agency", String(50), nullable=False),
    Column("recipient_iin", String(12), nullable=False, index=True),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("kbk", String(6), nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", _TS, nullable=False),
    # a state allowance (POST /allowances) is paid at most once per kind and subject: the
    # database refuses a second one, whatever the timing (NULLs: agencies' own payouts)
    Column("allowance_kind", String(20), nullable=True),
    Column("subject_iin", String(12), nullable=True),
    UniqueConstraint("allowance_kind", "subject_iin", name="uq_payouts_allowance_subject"),
)

# -- the ledger: append-only (no code path updates or deletes; triggers forbid it) -------------
ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("description", String(300), nullable=False, server_default=""),
    Column("agency", String(50), nullable=True),
    Column("kbk", String(6), nullable=True),
    Column("invoice_id", String(40), nullable=True),
    Column("business_date", Date, nullable=False),
    Column("created_at", _TS, nullable=False),
    # one posting per payment / refund / payout: a duplicate is impossible, not just unlikely
    UniqueConstraint("kind", "reference", name="uq_ledger_transactions_kind_reference"),
)
Index("ix_ledger_transactions_date", ledger_transactions.c.business_date)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("transaction_id", String(40), ForeignKey("ledger_transactions.id"), nullable=False),
    Column("account", String(120), nullable=False),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("created_at", _TS, nullable=False),
)
Index("ix_ledger_entries_account", ledger_entries.c.account)
Index("ix_ledger_entries_transaction", ledger_entries.c.transaction_id)

# balances derived from the entries, kept in the same transaction; its rows are the locks that
# serialise concurrent postings to one account (SELECT … FOR UPDATE on PostgreSQL)
account_balances = Table(
    "account_balances",
    metadata,
    Column("account", String(120), primary_key=True),
    Column("balance_tiyn", BigInteger, nullable=False),
    Column("updated_at", _TS, nullable=False),
)

idempotency_keys = idempotency_table(metadata, resource_id_length=40)

# the acquirer's facts we accepted (one row per acquirer transaction id: the dedup key)
acquirer_events = Table(
    "acquirer_events",
    metadata,
    Column("acquirer", String(30), primary_key=True),
    Column("event_id", String(100), primary_key=True),
    Column("type", String(30), nullable=False),
    Column("payment_id", String(40), nullable=False),
    Column("refund_id", String(40), nullable=True),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("occurred_at", _TS, nullable=False),
    Column("processed_at", _TS, nullable=False),
)

# every callback received, whatever became of it (the audit of the bank's door)
acquirer_callback_log = Table(
    "acquirer_callback_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("received_at", _TS, nullable=False),
    Column("acquirer", String(30), nullable=False),
    Column("event_id", String(100), nullable=True),
    Column("type", String(30), nullable=True),
    Column("outcome", String(30), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("detail", Text, nullable=False),
    Column("body_sha256", String(64), nullable=False),
)
Index("ix_acquirer_callback_log_event", acquirer_callback_log.c.event_id)
