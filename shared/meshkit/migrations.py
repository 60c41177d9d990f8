"""Alembic wiring every service reuses: its ``env.py`` is two lines, and the service applies
its migrations at start (dev) or with ``python -m <service> migrate`` (operators)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from meshkit.messaging.tables import messaging_metadata


def alembic_config(migrations_dir: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _configure_and_run(connection: Connection, target: list[MetaData]) -> None:
    context.configure(
        connection=connection,
        target_metadata=target,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(*service_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``."""
    from meshkit.echo import echo_metadata

    # the echo tables too: without them, autogenerate proposes to drop them
    target = [*service_metadata, messaging_metadata, echo_metadata]
    cfg = context.config
    conn: Connection | None = cfg.attributes.get("connection")
    if conn is not None:
        _configure_and_run(conn, target)
        return
    url = cfg.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    async def online() -> None:
        engine = create_async_engine(str(url))
        async with engine.connect() as connection:
            await connection.run_sync(_configure_and_run, target)
        await engine.dispose()

    asyncio.run(online())


async def upgrade_to_head(engine: AsyncEngine, migrations_dir: Path) -> None:
    """Apply every pending migration on ``engine`` (called at start in dev)."""
    cfg = alembic_config(migrations_dir, engine.url.render_as_string(hide_password=False))

    def do(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # one migrator at a time when several instances start together
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7243011)")
        await conn.run_sync(do)


def create_messaging_tables() -> None:
    """The outbox, inbox and mesh echo tables as of version 1 (``meshkit.messaging_migration``)."""
    from meshkit import messaging_migration

    messaging_migration.upgrade()


def drop_messaging_tables() -> None:
    from meshkit import messaging_migration

    messaging_migration.downgrade()
