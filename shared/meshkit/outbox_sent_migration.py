"""The revision, in every service's migrations, that moves published events out of the outbox.

Until it, the relay marked a published row ``sent_at`` in place and the outbox kept a day of
them; from it, the outbox holds only unsent events and a published row moves to
``outbox_sent`` (same columns, with ``sent_at``), where the relay's purge keeps it a day. Each
service's revision file names its own ``revision``/``down_revision`` and takes ``upgrade`` and
``downgrade`` from here. The tables are written out as of this revision, not imported from
``meshkit.messaging.tables``: a later change ships as a revision of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_COLUMNS = (
    "id, event_id, event_type, topic, message_key, payload, created_at, sent_at, attempts,"
    " last_error"
)


def upgrade() -> None:
    op.create_table(
        "outbox_sent",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_outbox_sent_sent_at", "outbox_sent", ["sent_at"], postgresql_using="brin")
    # the day of published events the outbox kept moves along with its sent_at
    op.execute(
        f"INSERT INTO outbox_sent ({_COLUMNS}) SELECT {_COLUMNS} FROM outbox"
        " WHERE sent_at IS NOT NULL"
    )
    op.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL")
    # SQLite: the table is rebuilt, now with AUTOINCREMENT (no id handed out twice)
    with op.batch_alter_table(
        "outbox", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("ix_outbox_sent_at")
        batch_op.drop_index("ix_outbox_unsent")
        batch_op.drop_column("sent_at")
    if op.get_bind().dialect.name == "sqlite":
        # the rebuilt table counts on from its own rows only: ids that moved to outbox_sent
        # must not be handed out again (the journal is read in id order)
        op.execute("DELETE FROM sqlite_sequence WHERE name = 'outbox'")
        op.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox', coalesce(max(id), 0)"
            " FROM (SELECT id FROM outbox UNION ALL SELECT id FROM outbox_sent)"
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_outbox_unsent",
            ["id"],
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )
        batch_op.create_index("ix_outbox_sent_at", ["sent_at"])
    op.execute(f"INSERT INTO outbox ({_COLUMNS}) SELECT {_COLUMNS} FROM outbox_sent")
    op.drop_index("ix_outbox_sent_sent_at", table_name="outbox_sent")
    op.drop_table("outbox_sent")
