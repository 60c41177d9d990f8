"""Live tests of the test infrastructure: a real Kafka broker and a real PostgreSQL server.

They use the plugin's fixtures, so they run against local processes here (or whatever
KAFKA_BOOTSTRAP_SERVERS / MESH_TEST_POSTGRES_URL / Docker provide; the fault-injection
tests are then skipped with a reason).
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from meshkit_testing.devinfra.kafka import kafka_ready

pytestmark = [pytest.mark.integration]


async def produce(bootstrap_servers: str, topic: str, values: list[bytes]) -> None:
    """Send with acks=all and wait for every acknowledgement."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for i, value in enumerate(values):
            await producer.send(topic, value, key=str(i % 7).encode())
        await producer.flush()
    finally:
        await producer.stop()


async def read_topic(bootstrap_servers: str, topic: str, count: int, within: float) -> list[bytes]:
    """Read *count* records from the beginning of *topic*, failing after *within* seconds."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    values: list[bytes] = []
    deadline = time.monotonic() + within
    try:
        while len(values) < count:
            if time.monotonic() >= deadline:
                pytest.fail(f"read {len(values)}/{count} records of {topic} within {within}s")
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                values.extend(r.value for r in records if r.value is not None)
    finally:
        await consumer.stop()
    return values


# --------------------------------------------------------------------------- Kafka


@pytest.mark.kafka
async def test_kafka_produce_and_consume(kafka: Any, kafka_topic: str) -> None:
    assert kafka.is_running()
    await produce(kafka.bootstrap_servers, kafka_topic, [b"hello", b"mesh"])

    got = await read_topic(kafka.bootstrap_servers, kafka_topic, 2, within=30)

    assert sorted(got) == [b"hello", b"mesh"]


@pytest.mark.kafka
async def test_kafkas_own_tools_run_from_the_pinned_jars(kafka: Any, kafka_topic: str) -> None:
    # what the runbook and the benchmark rely on: `python -m meshkit_testing.devinfra kafka-tool …`
    await produce(kafka.bootstrap_servers, kafka_topic, [b"listed"])
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "meshkit_testing.devinfra", "kafka-tool", "kafka-topics.sh",
        "--bootstrap-server", kafka.bootstrap_servers, "--list",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert kafka_topic in out.decode().split()


@pytest.mark.kafka
@pytest.mark.slow
async def test_acknowledged_messages_survive_a_sigkilled_broker(
    kafka: Any, kafka_topic: str
) -> None:
    before = [f"before-{i}".encode() for i in range(200)]
    await produce(kafka.bootstrap_servers, kafka_topic, before)

    kafka.kill()  # SIGKILL: no controlled shutdown, no final flush
    assert not kafka.is_running()
    assert not kafka_ready(kafka.bootstrap_servers, timeout=0.5)

    await asyncio.to_thread(kafka.start)  # keep the event loop free while it recovers
    assert kafka.is_running()

    await produce(kafka.bootstrap_servers, kafka_topic, [b"after"])
    got = await read_topic(kafka.bootstrap_servers, kafka_topic, len(before) + 1, within=60)
    assert sorted(got) == sorted([*before, b"after"])


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
async def test_pg_url_is_a_fresh_database(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(pg_url)
    try:
        async with engine.connect() as conn:
            name = await conn.scalar(text("SELECT current_database()"))
            tables = await conn.scalar(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
    finally:
        await engine.dispose()
    assert pg_url.endswith(f"/{name}")
    assert tables == 0


@pytest.mark.postgres
@pytest.mark.slow
async def test_committed_rows_survive_a_sigkilled_server(postgres: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    url_a = postgres.create_database(f"live_a_{suffix}")
    url_b = postgres.create_database(f"live_b_{suffix}")
    assert url_a != url_b
    assert postgres.create_database(f"live_a_{suffix}") == url_a  # idempotent

    engine_a = create_async_engine(url_a)
    engine_b = create_async_engine(url_b)
    try:
        async with engine_a.begin() as conn:
            await conn.execute(text("CREATE TABLE item (id int PRIMARY KEY, name text)"))
            await conn.execute(text("INSERT INTO item VALUES (1, 'committed')"))
        async with engine_a.connect() as conn:
            assert await conn.scalar(text("SELECT name FROM item WHERE id = 1")) == "committed"
        async with engine_b.connect() as conn:  # a separate database: no such table
            assert await conn.scalar(text("SELECT to_regclass('public.item')")) is None
    finally:
        await engine_a.dispose()
        await engine_b.dispose()

    postgres.kill()  # SIGKILL postmaster and backends
    assert not postgres.is_running()
    await asyncio.to_thread(postgres.start)  # crash recovery from the WAL

    engine_a = create_async_engine(url_a)
    try:
        async with engine_a.connect() as conn:
            assert await conn.scalar(text("SELECT name FROM item WHERE id = 1")) == "committed"
    finally:
        await engine_a.dispose()


@pytest.mark.postgres
async def test_a_server_left_killed_is_revived_for_the_next_test_part1(postgres: Any) -> None:
    postgres.kill()
    assert not postgres.is_running()


@pytest.mark.postgres
async def test_a_server_left_killed_is_revived_for_the_next_test_part2(pg_url: str) -> None:
    engine = create_async_engine(pg_url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()
