"""The audit hash chain: it verifies, and an edited, removed or truncated record is found."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import delete, update

from egov_gateway.exchange.adapters.audit_tables import audit_log
from egov_gateway.exchange.adapters.audit_writer import AuditWriter, SqliteSink, WalCheckpointer
from egov_gateway.exchange.domain.audit import AuditEntry, ChainHead, ChainVerifier
from egov_gateway.orm import metadata
from meshkit.db import create_engine
from meshkit_testing.gateway import CITIZEN, Mesh
from meshkit_testing.polling import eventually

PURPOSE = {"X-Mesh-Purpose": "audit test"}


async def _calls(mesh: Mesh, n: int) -> list[str]:
    mesh.register.grant("licensing", "identity:GET /persons/{iin}")
    hdrs = {**mesh.agency("licensing"), **PURPOSE}
    results = await asyncio.gather(
        *(mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=hdrs) for _ in range(n))
    )
    assert all(r.status_code == 200 for r in results)
    return [r.headers["x-request-id"] for r in results]


async def test_chain_verifies_and_concurrent_calls_share_commits(mesh: Mesh) -> None:
    rids = await _calls(mesh, 60)
    report = await mesh.verify()
    assert report == {
        "ok": True,
        "records_checked": 60,
        "first_broken": None,
        "chains": {"gw-1": 60},
    }
    writer = mesh.components.audit_writer
    assert writer.records == 60 and writer.batches < 60  # group commit batched them
    for rid in rids[:5]:
        assert len(await mesh.audit(request_id=rid)) == 1


async def test_editing_one_row_breaks_the_chain_at_that_row(mesh: Mesh) -> None:
    await _calls(mesh, 12)
    engine = mesh.components.audit_writer.engine
    async with engine.begin() as conn:  # someone hides a call's subject
        await conn.execute(update(audit_log).where(audit_log.c.seq == 7).values(subject=None))
    report = await mesh.verify()
    assert report["ok"] is False and report["records_checked"] == 7
    broken = report["first_broken"]
    assert broken["seq"] == 7 and "edited" in broken["reason"] and broken["request_id"]


async def test_recomputed_hash_still_breaks_the_next_link(mesh: Mesh) -> None:
    await _calls(mesh, 6)
    engine = mesh.components.audit_writer.engine
    async with engine.connect() as conn:
        row = (await conn.execute(audit_log.select().where(audit_log.c.seq == 3))).mappings().one()
    from egov_gateway.exchange.domain.audit import AuditRecord

    forged = AuditRecord.from_row({**row, "status": 404})
    async with engine.begin() as conn:  # a careful forger fixes the row's own hash …
        await conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == 3)
            .values(status=404, hash=forged.computed_hash())
        )
    broken = (await mesh.verify())["first_broken"]
    assert broken["seq"] == 4 and "prev_hash" in broken["reason"]  # … the next link exposes it


async def test_deleted_rows_are_found_in_the_middle_and_at_the_end(mesh: Mesh) -> None:
    await _calls(mesh, 8)
    engine = mesh.components.audit_writer.engine
    async with engine.begin() as conn:
        await conn.execute(delete(audit_log).where(audit_log.c.seq == 8))
    broken = (await mesh.verify())["first_broken"]
    assert broken["seq"] == 8 and "missing from the end" in broken["reason"]
    async with engine.begin() as conn:
        await conn.execute(delete(audit_log).where(audit_log.c.seq == 4))
    broken = (await mesh.verify())["first_broken"]
    assert broken["seq"] == 5 and "sequence jumps" in broken["reason"]


def _entry(i: int) -> AuditEntry:
    return AuditEntry(
        at_us=1_700_000_000_000_000 + i,
        request_id=f"req-{i:08d}",
        client="licensing",
        user=None,
        subject="900115300122",
        agency="identity",
        operation_id="op",
        service_code=None,
        purpose="p",
        method="GET",
        path="/persons/900115300122",
        status=200,
        outcome="forwarded",
        latency_us=1000,
        request_sha256="0" * 64,
        response_sha256="1" * 64,
    )


def test_chain_of_pure_records_and_kazakh_text_hash_deterministically() -> None:
    head = ChainHead("gw-a")
    records = []
    for i in range(5):
        rec = head.append(_entry(i))
        records.append(rec)
        head = head.after(rec)
    again = ChainHead("gw-a").append(_entry(0))
    assert again.hash == records[0].hash and records[1].prev_hash == records[0].hash
    v = ChainVerifier("gw-a")
    assert v.feed(records) and v.broken is None and v.checked == 5
    from dataclasses import replace

    tampered = replace(records[2], purpose="Әділет министрлігі")
    v = ChainVerifier("gw-a")
    assert not v.feed([records[0], records[1], tampered])
    assert v.broken is not None and v.broken.seq == 3


async def test_sqlite_writer_never_checkpoints_on_its_own_connection(tmp_path: Path) -> None:
    """A WAL checkpoint copies pages and fsyncs (~15 ms): it must not sit in a call's path.
    The writer's connection has auto-checkpoint off; the background checkpointer keeps the
    WAL from growing, and the records it copied are all there."""

    path = tmp_path / "audit.db"
    sync_engine = create_sync_engine(f"sqlite:///{path}")
    metadata.create_all(sync_engine)
    sync_engine.dispose()
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sink = SqliteSink(str(path))
    writer = AuditWriter(engine, instance_id="gw-ck", sink=sink)
    await writer.start()
    try:
        for i in range(40):  # one record per batch: forty commits
            await writer.write(_entry(i))
        conn = sink._db()
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        checkpointer = sink._checkpointer
        assert isinstance(checkpointer, WalCheckpointer)

        async def checkpointed() -> bool:
            return checkpointer.checkpoints >= 1

        await eventually(checkpointed, within=10, what="a background WAL checkpoint")
        assert checkpointer.last is not None
        busy, frames, copied = checkpointer.last
        assert busy == 0 and frames > 0 and copied == frames  # every frame reached the file
    finally:
        await writer.stop()
        await engine.dispose()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 40


def test_a_wal_past_its_limit_is_rewound(tmp_path: Path) -> None:
    """Under steady writes a PASSIVE checkpoint never lets SQLite rewind the WAL, so past the
    limit the checkpointer runs a RESTART one: the next commit starts the WAL over."""

    path = str(tmp_path / "wal.db")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    for i in range(400):  # ≈ 400 pages of WAL
        writer.execute("INSERT INTO t (body) VALUES (?)", ("x" * 3000 + str(i),))
    checkpointer = WalCheckpointer(path, every=10**9, interval_s=3600, wal_limit_bytes=1 << 20)
    try:
        other = sqlite3.connect(path, isolation_level=None)
        page_size = int(other.execute("PRAGMA page_size").fetchall()[0][0])
        checkpointer.checkpoint_now(other, page_size)
        assert checkpointer.restarts == 1  # 400 × 4 KiB pages > 1 MiB
        writer.execute("INSERT INTO t (body) VALUES ('after')")
        frames = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0][1]
        assert frames < 10, frames  # rewound: only the last commit's pages
        small = WalCheckpointer(path, every=10**9, interval_s=3600, wal_limit_bytes=1 << 30)
        try:
            for i in range(50):
                writer.execute("INSERT INTO t (body) VALUES (?)", ("y" * 3000 + str(i),))
            small.checkpoint_now(other, page_size)
            assert small.restarts == 0 and small.last is not None and small.last[1] >= 50
        finally:
            small.stop()
        other.close()
    finally:
        checkpointer.stop()
        writer.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone()[0] == 451


def test_a_restart_gives_way_to_a_long_reader(tmp_path: Path) -> None:
    """A RESTART checkpoint holds writers off while it waits for readers; with a long read
    open (an audit verify of a big log) it must give up quickly and leave the writers be."""

    path = str(tmp_path / "wal.db")
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 0  # a snapshot, held
    for i in range(400):
        writer.execute("INSERT INTO t (body) VALUES (?)", ("x" * 3000 + str(i),))
    checkpointer = WalCheckpointer(path, every=10**9, interval_s=3600, wal_limit_bytes=1 << 20)
    other = checkpointer.connect()  # configured as the checkpointer's thread has it
    try:
        started = time.monotonic()
        checkpointer.checkpoint_now(other, 4096)
        waited = time.monotonic() - started
        assert checkpointer.restarts == 1 and checkpointer.last is not None
        assert checkpointer.last[0] == 1  # busy: the reader still needs the WAL
        assert waited < 2.5  # gave way (a 5 s busy timeout would have held writers 5 s)
        writer.execute("INSERT INTO t (body) VALUES ('meanwhile')")  # writers go on at once
    finally:
        reader.execute("COMMIT")
        for conn in (reader, other, writer):
            conn.close()
        checkpointer.stop()
