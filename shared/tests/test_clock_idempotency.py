"""meshkit.clock and meshkit.idempotency: the shared time and Idempotency-Key pieces."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession

from meshkit.clock import BusinessClock, ManualClock, ShiftedClock, SystemClock
from meshkit.db import create_engine
from meshkit.errors import Conflict
from meshkit.idempotency import IdempotencyKeys, fingerprint, idempotency_table


def test_manual_clock_stands_still_until_moved() -> None:
    start = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    clock = ManualClock(start)
    assert clock.now() == start
    clock.advance(timedelta(days=2), hours=1)
    assert clock.now() == start + timedelta(days=2, hours=1)
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))  # naive


def test_shifted_clock_runs_ahead_by_its_offset() -> None:
    clock = ShiftedClock()
    clock.advance(seconds=301)
    ahead = clock.now() - SystemClock().now()
    assert timedelta(seconds=300) < ahead < timedelta(seconds=302)
    clock.freeze()
    frozen = clock.now()
    assert clock.now() == frozen  # stands still…
    clock.advance(seconds=12)
    assert clock.now() == frozen + timedelta(seconds=12)  # …until moved


def test_business_clock_days_are_local() -> None:
    at = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # 01:00 on the 7th in UTC+5
    clock = BusinessClock(5, source=ManualClock(at))
    assert clock.today() == date(2026, 3, 7)
    start, end = clock.day_bounds(date(2026, 3, 7))
    assert start == datetime(2026, 3, 6, 19, 0, tzinfo=UTC) and end - start == timedelta(days=1)
    assert clock.name == "UTC+5"


@pytest.mark.parametrize("with_operation", [False, True])
async def test_idempotency_keys_replay_and_refuse_another_body(
    tmp_path: Path, with_operation: bool
) -> None:
    md = MetaData()
    table = idempotency_table(md, with_operation=with_operation, resource_id_length=40)
    assert ("operation" in table.c) is with_operation
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(md.create_all)
        body = fingerprint({"b": 1, "a": [2]})
        assert body == fingerprint({"a": [2], "b": 1})  # canonical: key order does not count
        now = datetime.now(UTC)
        async with engine.connect() as conn:
            session = AsyncSession(bind=conn)
            keys = IdempotencyKeys(session, table)
            assert await keys.replayed("client-a", "k1", body, operation="birth") is None
            await keys.add("client-a", "k1", body, "R-1", now, operation="birth")
            assert await keys.replayed("client-a", "k1", body, operation="birth") == "R-1"
            assert await keys.get("client-b", "k1", operation="birth") is None  # per caller
            with pytest.raises(Conflict) as refused:
                await keys.replayed("client-a", "k1", fingerprint({"b": 2}), operation="birth")
            assert refused.value.code == "idempotency-key-reused"
            await session.close()
    finally:
        await engine.dispose()
