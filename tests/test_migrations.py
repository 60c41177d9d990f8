"""Each service's migrations build exactly the schema its code declares: a table or column
added to the code without a migration (or the reverse) fails here, not on an operator's upgrade."""

from __future__ import annotations

import runpy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

import meshkit.migrations
from meshkit.db import create_engine
from meshkit.echo import echo_metadata
from meshkit.messaging.tables import messaging_metadata
from meshkit.migrations import upgrade_to_head

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.parent.parent.name for p in ROOT.glob("*/migrations/env.py"))


def declared_metadata(service: str) -> MetaData:
    """What the service's env.py hands to Alembic (its run_env call, captured), as one."""
    captured: list[MetaData] = []
    with pytest.MonkeyPatch.context() as m:
        m.setattr(meshkit.migrations, "run_env", lambda *md: captured.extend(md))
        runpy.run_path(str(ROOT / service / "migrations" / "env.py"))
    assert captured, f"{service}/migrations/env.py did not call run_env"
    merged = MetaData()
    for md in (*captured, messaging_metadata, echo_metadata):
        for table in md.tables.values():
            table.to_metadata(merged)
    return merged


def test_every_service_has_migrations() -> None:
    assert set(SERVICES) >= {
        "gateway",
        "svc-identity",
        "svc-registry",
        "svc-licensing",
        "svc-payments",
        "svc-notary",
    }


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_declared_schema(
    service: str, database_url: str | None, tmp_path: Path
) -> None:
    target = declared_metadata(service)
    engine = create_engine(database_url or f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        await upgrade_to_head(engine, ROOT / service / "migrations")

        def diff(conn: Any) -> list[Any]:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, target))

        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == [], f"{service}: migrations and code disagree: {differences}"


@pytest.mark.parametrize("service", SERVICES)
async def test_published_events_move_from_the_outbox_on_upgrade(
    service: str, database_url: str | None, tmp_path: Path
) -> None:
    """The outbox_sent revision: the published rows an outbox kept move with their sent_at,
    the unsent ones stay to be relayed, and (SQLite) the rebuilt outbox never reuses an id."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    migrations = ROOT / service / "migrations"
    engine = create_engine(database_url or f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    cfg = meshkit.migrations.alembic_config(migrations, "unused://")
    script = ScriptDirectory.from_config(cfg)
    sent_revision = next(r for r in script.walk_revisions() if r.path.endswith("_outbox_sent.py"))
    row = (
        "INSERT INTO outbox (event_id, event_type, topic, message_key, payload, created_at,"
        " sent_at, attempts) VALUES (:e, 't', 'egov.x', 'k', :p, :c, :s, :a)"
    )
    now = datetime.now(UTC)

    def run(connection: Any, target: str) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, target)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(run, str(sent_revision.down_revision))
            # the unsent row first: on SQLite the rebuilt outbox's counter must still pass
            # the ids that moved
            for i, sent in enumerate((None, now, now)):
                await conn.execute(
                    text(row),
                    {"e": f"ev{i}", "p": b"{}", "c": now, "s": sent, "a": int(sent is not None)},
                )
        async with engine.begin() as conn:
            await conn.run_sync(run, "head")
            await conn.execute(
                text(row.replace(" sent_at,", "").replace(" :s,", "")),
                {"e": "ev3", "p": b"{}", "c": now, "a": 0},
            )
        async with engine.connect() as conn:
            unsent = (await conn.execute(text("SELECT id, event_id FROM outbox ORDER BY id"))).all()
            moved = (
                await conn.execute(
                    text("SELECT id, event_id, sent_at FROM outbox_sent ORDER BY id")
                )
            ).all()
            if conn.dialect.name == "sqlite":
                ddl = (
                    await conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'outbox'"))
                ).scalar_one()
                assert "AUTOINCREMENT" in ddl
    finally:
        await engine.dispose()
    assert [u.event_id for u in unsent] == ["ev0", "ev3"]
    assert [m.event_id for m in moved] == ["ev1", "ev2"]
    assert unsent[1].id > max(m.id for m in moved), "an id of a moved event handed out again"
    assert all(m.sent_at is not None for m in moved)
