"""Reading a Kafka topic whole from a test: what is really on it, doubles included."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def read_topic(bootstrap: str, topic: str, expected: int, within: float) -> list[Any]:
    """Every record of ``topic`` from the beginning (no consumer group), until ``expected``
    have arrived or ``within`` seconds pass; then drains a little longer so that a doubled
    record is seen too. Returns the aiokafka ``ConsumerRecord`` objects."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    out: list[Any] = []
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                out.extend(records)
            if len(out) >= expected:
                # drain a little longer to catch any extra (doubled) message
                more = await consumer.getmany(timeout_ms=1500)
                for records in more.values():
                    out.extend(records)
                break
    finally:
        await consumer.stop()
    return out


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """Create ``topic`` with ``partitions`` partitions (replication 1) instead of relying on
    the broker's auto-creation default, which differs between brokers (local: 3, a Docker
    image: often 1)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=1)]
        )
    finally:
        await admin.close()
