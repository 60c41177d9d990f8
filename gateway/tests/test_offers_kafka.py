"""Through real Kafka and PostgreSQL: a birth delivered twice on egov.registry (redelivery)
makes the parents' offers once, and the OfferMade events leave through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from meshkit.contracts.registry import BirthRegistered
from meshkit.events import build_envelope
from meshkit_testing.gateway_offers import SingleWindowHarness, iin, start_single_window
from meshkit_testing.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

MOTHER = iin(700, sex="female")
FATHER = iin(800, born=date(1987, 7, 7), sex="male")
CHILD = iin(900, born=date(2026, 11, 25), sex="female")


@pytest.fixture
async def kafka_window(
    tmp_path: Path, pg_url: str, kafka: Any
) -> AsyncIterator[tuple[SingleWindowHarness, str, str]]:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    async for sw in start_single_window(
        tmp_path,
        pg_url,
        kafka_enabled=True,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        topic_prefix=prefix,
    ):
        yield sw, prefix, kafka.bootstrap_servers


async def test_a_redelivered_birth_offers_once(
    kafka_window: tuple[SingleWindowHarness, str, str],
) -> None:
    sw, prefix, bootstrap = kafka_window
    data = BirthRegistered(
        act_number="B-2026-009001",
        child_iin=CHILD,
        surname="Серікова",
        given_name="Әйгерім",
        birth_date=date(2026, 11, 25),
        sex="female",
        place="Шымкент",
        mother_iin=MOTHER,
        father_iin=FATHER,
        registered_at=datetime.now(UTC),
    )
    envelope = build_envelope(data, source="/svc-registry", subject=CHILD)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for _ in range(2):  # the same event twice: the inbox and the offers dedup it
            await producer.send_and_wait(
                f"{prefix}egov.registry", envelope.to_json_bytes(), key=CHILD.encode()
            )
    finally:
        await producer.stop()
    consumer = sw.runtime.consumer
    assert consumer is not None

    async def both_seen() -> bool:
        return consumer.processed_total + consumer.duplicates_total >= 2

    await eventually(both_seen, within=90, what="the birth event consumed twice")
    rows = await sw.sql(
        "SELECT citizen_iin, service_code FROM offers WHERE trigger_event_id = :e",
        e=envelope.id,
    )
    assert sorted(tuple(r) for r in rows) == sorted(
        (p, s) for p in (MOTHER, FATHER) for s in ("pm-birth-allowance", "rg-birth-certificate")
    )

    async def offers_published() -> bool:
        sent = await sw.sql(
            "SELECT count(*) FROM outbox_sent WHERE event_type = 'kz.egov.gateway.offer.made.v1'"
        )
        return int(sent[0][0]) == 4

    await eventually(offers_published, within=60, what="4 OfferMade events relayed")
    r = await sw.client.get("/api/v1/me/offers", headers=sw.citizen(MOTHER))
    assert r.json()["total"] == 2
