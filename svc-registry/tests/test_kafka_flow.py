"""Against a real Kafka: a registered notarial sale arrives on egov.notary (twice, and once
more under a new event id), the registry transfers once and publishes on egov.registry."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from egov_registry.app import create_app
from meshkit.contracts.notary import ActRegistered
from meshkit.events import CloudEvent, build_envelope
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.ca import TestCA
from meshkit_testing.polling import eventually
from meshkit_testing.registry import (
    FATHER,
    MOTHER,
    OTHER,
    Registry,
    default_identity,
    registry_settings,
    wire,
)

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

FLAT = "21:318:010:123:4"
HOUSE = "21:320:044:007"


@pytest.fixture
async def live(
    tmp_path: Path, database_url: str | None, kafka: Any
) -> AsyncIterator[tuple[Registry, str]]:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    fake = FakeGateway(tmp_path)
    identity, ca = default_identity(), TestCA()
    settings = registry_settings(
        tmp_path,
        database_url,
        gateway_jwks_url=fake.jwks_url,
        kafka_enabled=True,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        topic_prefix=prefix,
    )
    app = create_app(settings)
    revocation = wire(app, fake, identity, ca)
    async with running(app) as client:
        yield Registry(app, client, fake, identity, ca, revocation, "kafka"), prefix


async def read_events(
    bootstrap: str, topic: str, want: set[str], within: float
) -> list[CloudEvent]:
    """Every event on the topic; returns once the wanted types are seen plus a short drain."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[CloudEvent] = []
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                seen.extend(CloudEvent.from_json_bytes(r.value or b"") for r in records)
            if want <= {e.type for e in seen}:
                # drain a little longer so a doubled message would be caught
                for records in (await consumer.getmany(timeout_ms=2000)).values():
                    seen.extend(CloudEvent.from_json_bytes(r.value or b"") for r in records)
                break
    finally:
        await consumer.stop()
    return seen


def sale(act: str, cadastral: str, seller: str, buyer: str) -> ActRegistered:
    whole = {"num": 1, "den": 1}
    return ActRegistered(
        act_number=act,
        kind="property_sale",
        notary_iin=OTHER,
        registered_at=datetime.now(UTC),
        parties=[seller, buyer],
        cadastral_number=cadastral,
        sellers=[{"id": seller, "share": whole}],  # type: ignore[list-item]
        buyers=[{"id": buyer, "share": whole}],  # type: ignore[list-item]
        price_tiyn=3_000_000_000,
    )


async def test_sale_events_transfer_once_and_publish(
    live: tuple[Registry, str], kafka: Any
) -> None:
    registry, prefix = live
    for number in (FLAT, HOUSE):
        r = await registry.call(
            "POST",
            "/properties",
            json={
                "cadastral_number": number,
                "kind": "apartment",
                "address": "Астана қ., Тұран даңғылы, 1",
                "area_m2": "50.00",
                "owners": [{"id": MOTHER, "share": {"num": 1, "den": 1}}],
            },
        )
        assert r.status_code == 201
    r = await registry.call("POST", f"/properties/{HOUSE}/encumbrances", json={"kind": "arrest"})
    assert r.status_code == 201

    ok = build_envelope(
        sale("NA-K-1", FLAT, MOTHER, FATHER), source="/svc-notary", subject="NA-K-1"
    )
    same_act_new_id = build_envelope(
        sale("NA-K-1", FLAT, MOTHER, FATHER), source="/svc-notary", subject="NA-K-1"
    )
    arrested = build_envelope(
        sale("NA-K-2", HOUSE, MOTHER, FATHER), source="/svc-notary", subject="NA-K-2"
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        for envelope in (ok, ok, same_act_new_id, arrested):  # a redelivery and a re-publication
            await producer.send_and_wait(
                f"{prefix}egov.notary",
                envelope.to_json_bytes(),
                key=envelope.subject.encode() if envelope.subject else None,
            )
    finally:
        await producer.stop()

    async def decided() -> bool:
        flat = (await registry.call("GET", f"/properties/{FLAT}")).json()
        rejected = await registry.outbox_events("registry.property.transfer_rejected")
        return [o["id"] for o in flat["owners"]] == [FATHER] and len(rejected) == 1

    await eventually(decided, within=90, what="the sale applied and the arrested sale rejected")
    events = await read_events(
        kafka.bootstrap_servers,
        f"{prefix}egov.registry",
        {
            "kz.egov.registry.property.transferred.v1",
            "kz.egov.registry.property.transfer_rejected.v1",
        },
        within=60,
    )
    transferred = [e for e in events if e.type == "kz.egov.registry.property.transferred.v1"]
    rejected = [e for e in events if e.type == "kz.egov.registry.property.transfer_rejected.v1"]
    assert len(transferred) == 1 and transferred[0].subject == FLAT
    assert transferred[0].causationid == ok.id and transferred[0].source == "/svc-registry"
    assert len(rejected) == 1 and "arrest" in rejected[0].data["reason"]
    house = (await registry.call("GET", f"/properties/{HOUSE}")).json()
    assert [o["id"] for o in house["owners"]] == [MOTHER]
    assert registry.runtime.consumer is not None and registry.runtime.consumer.duplicates_total >= 1


async def test_birth_event_reaches_the_registry_topic(
    live: tuple[Registry, str], kafka: Any
) -> None:
    registry, prefix = live
    r = await registry.call(
        "POST",
        "/births",
        json={
            "surname": "Сәрсенбаева",
            "given_name": "Інжу",
            "birth_date": "2026-02-14",
            "sex": "female",
            "place": "Алматы қ., №4 перзентхана",
            "mother_iin": MOTHER,
            "father_iin": FATHER,
        },
    )
    assert r.status_code == 201, r.text
    events = await read_events(
        kafka.bootstrap_servers,
        f"{prefix}egov.registry",
        {"kz.egov.registry.birth.registered.v1"},
        within=60,
    )
    births = [e for e in events if e.type == "kz.egov.registry.birth.registered.v1"]
    assert len(births) == 1 and births[0].subject == r.json()["child_iin"]
    assert births[0].data["given_name"] == "Інжу" and births[0].data["mother_iin"] == MOTHER
