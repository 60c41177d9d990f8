"""The payments domain (invoices, payments, refunds, payouts, the ledger, the acquirer port).

Knows nothing of HTTP or SQL."""
