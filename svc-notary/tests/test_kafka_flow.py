"""The property sale over a real Kafka: payments' and the registry's events arrive on their
topics (duplicated and redelivered), svc-notary's consumer and outbox relay do the rest."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from conftest import BUYER, CADASTRAL, NOTARY_IIN, SELLER_A, SELLER_B, notary_service, sale_draft

from meshkit.contracts.notary import ActExecuted, ActRegistered
from meshkit.contracts.payments import InvoicePaid
from meshkit.contracts.registry import PropertyTransferred
from meshkit.events import CloudEvent, EventData, build_envelope
from meshkit.messaging.kafka import make_producer
from meshkit_testing.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


async def test_sale_over_kafka_registers_once_and_executes_on_the_registry_event(
    tmp_path: Path, database_url: str | None, kafka: Any
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    async with notary_service(
        tmp_path,
        database_url,
        kafka_enabled=True,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        topic_prefix=prefix,
    ) as notary:
        r = await notary.call("POST", "/acts", user=NOTARY_IIN, json=sale_draft())
        assert r.status_code == 201, r.text
        act_id = r.json()["id"]
        for iin in (SELLER_A, SELLER_B, BUYER):
            assert (await notary.sign(act_id, iin)).status_code == 200
        assert (await notary.sign(act_id, NOTARY_IIN, as_notary=True)).status_code == 200
        invoice = notary.mesh.invoices[act_id]

        producer = make_producer(kafka.bootstrap_servers, client_id="test-mesh")
        await producer.start()
        try:

            async def publish(topic: str, envelope: CloudEvent) -> None:
                await producer.send_and_wait(
                    f"{prefix}{topic}",
                    envelope.to_json_bytes(),
                    key=(envelope.subject or "").encode(),
                )

            def envelope(data: EventData, source: str, subject: str) -> CloudEvent:
                return build_envelope(data, source=source, subject=subject)

            paid = InvoicePaid(
                invoice_id=invoice.id,
                payer=invoice.payer,
                amount_tiyn=invoice.amount_tiyn,
                beneficiary_agency="notary",
                reference=act_id,
                paid_at=datetime.now(UTC),
            )
            first = envelope(paid, "/svc-payments", invoice.id)
            await publish("egov.payments", first)
            await publish("egov.payments", first)  # redelivery of the same event
            await publish(
                "egov.payments", envelope(paid, "/svc-payments", invoice.id)
            )  # a duplicate

            async def registered() -> bool:
                return (await notary.act(act_id))["status"] == "registered"

            await eventually(registered, within=60, what="the act registered after payment")
            number = (await notary.act(act_id))["number"]

            # svc-notary published exactly one ActRegistered, through its outbox relay
            seen: list[dict[str, Any]] = []
            consumer = AIOKafkaConsumer(
                f"{prefix}egov.notary",
                bootstrap_servers=kafka.bootstrap_servers,
                group_id=f"test-{uuid.uuid4().hex[:6]}",
                auto_offset_reset="earliest",
            )
            await consumer.start()
            try:

                async def notary_events(types: set[str]) -> bool:
                    batches = await consumer.getmany(timeout_ms=500)
                    for records in batches.values():
                        seen.extend(json.loads(r.value) for r in records if r.value)
                    return types <= {e["type"] for e in seen}

                await eventually(
                    lambda: notary_events({ActRegistered.event_type}),
                    within=60,
                    what="ActRegistered on egov.notary",
                )
                registered_events = [e for e in seen if e["type"] == ActRegistered.event_type]
                assert len(registered_events) == 1
                assert registered_events[0]["data"]["act_number"] == number
                assert registered_events[0]["data"]["sellers"][0]["share"] == {"num": 2, "den": 3}
                assert (await notary.act(act_id))["status"] == "registered"  # not executed yet

                transferred = PropertyTransferred(
                    cadastral_number=CADASTRAL,
                    act_number=number,
                    sellers=[],
                    buyers=[],
                    owners_after=[],
                )
                await publish("egov.registry", envelope(transferred, "/svc-registry", CADASTRAL))

                async def executed() -> bool:
                    return (await notary.act(act_id))["status"] == "executed"

                await eventually(executed, within=60, what="the sale executed")
                await eventually(
                    lambda: notary_events({ActExecuted.event_type}),
                    within=60,
                    what="ActExecuted on egov.notary",
                )
                assert [e["type"] for e in seen].count(ActRegistered.event_type) == 1
            finally:
                await consumer.stop()
        finally:
            await producer.stop()
        history = [s["step"] for s in (await notary.act(act_id))["history"]]
        assert history.count("fee_paid") == 1 and history.count("registered") == 1
