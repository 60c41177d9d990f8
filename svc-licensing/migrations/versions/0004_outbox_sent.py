"""outbox_sent: a published event moves out of the outbox instead of being marked in place

The outbox keeps only unsent events; the relay moves each acknowledged row to outbox_sent
(with its sent_at), kept a day. Shared with every service: meshkit.outbox_sent_migration.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 06:00:00.000000
"""

from meshkit.outbox_sent_migration import downgrade, upgrade

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

__all__ = ["downgrade", "upgrade"]
