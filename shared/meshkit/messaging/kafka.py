"""aiokafka producer/consumer construction with the mesh's delivery settings."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from meshkit.settings import KafkaSecuritySettings

CONTENT_TYPE = b"application/cloudevents+json; charset=utf-8"


def make_producer(
    bootstrap_servers: str, *, client_id: str, security: KafkaSecuritySettings | None = None
) -> AIOKafkaProducer:
    # security: this process's principal (MESH_KAFKA_* when not given); PLAINTEXT by default
    # acks=all: a publish counts only once every in-sync replica has it (no loss on broker crash)
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
        metadata_max_age_ms=30_000,
        **(security or KafkaSecuritySettings()).client_options(),
    )


def make_consumer(
    *topics: str,
    bootstrap_servers: str,
    group_id: str,
    client_id: str,
    security: KafkaSecuritySettings | None = None,
) -> AIOKafkaConsumer:
    # offsets are committed by hand after the handler's transaction commits (inbox pattern)
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=2000,
        fetch_max_wait_ms=100,
        request_timeout_ms=20_000,
        retry_backoff_ms=200,
        metadata_max_age_ms=5_000,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        **(security or KafkaSecuritySettings()).client_options(),
    )


def dlq_topic(topic: str, group_id: str) -> str:
    return f"{topic}.dlq.{group_id}"


async def close_client(client: AIOKafkaConsumer | AIOKafkaProducer, timeout_s: float) -> None:
    """Stop a Kafka client, whatever state it is in, without failing the caller's shutdown.

    aiokafka's ``stop()`` cancels its own fetch/send tasks and then awaits them, so the
    ``CancelledError`` of *its* task surfaces here (an operator's Ctrl-C printed a traceback
    and "Application shutdown failed" in every service, and the rest of the shutdown was
    skipped). That one is swallowed; a cancellation of the caller itself is not.
    """
    try:
        await asyncio.wait_for(client.stop(), timeout_s)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
    except Exception:
        return  # a client that cannot stop cleanly is dropped all the same
