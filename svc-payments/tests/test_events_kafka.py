"""Through real Kafka: registry's LegalEntityRegistered in, the state-duty invoice and its
InvoiceIssued / InvoicePaid out — once each, even when the event is delivered twice."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from payments_harness import new_bin, new_iin, payments_service

from meshkit.contracts.common import Share
from meshkit.contracts.registry import Founder, LegalEntityRegistered
from meshkit.events import CloudEvent, build_envelope

pytestmark = [pytest.mark.integration, pytest.mark.kafka, pytest.mark.postgres]


async def _read_all(bootstrap: str, topic: str) -> list[CloudEvent]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        out: list[CloudEvent] = []
        for _ in range(6):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                out.extend(CloudEvent.from_json_bytes(r.value or b"") for r in records)
        return out
    finally:
        await consumer.stop()


async def test_state_duty_through_kafka(tmp_path: Path, pg_url: str, kafka: Any) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    async with payments_service(
        tmp_path,
        pg_url,
        kafka_enabled=True,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        topic_prefix=prefix,
    ) as svc:
        director, bin_ = new_iin(), new_bin()
        data = LegalEntityRegistered(
            bin=bin_,
            name_kk="«Қазына» ЖШС",
            name_ru="ТОО «Казына»",
            legal_form="LLP",
            director_iin=director,
            founders=[Founder(id=director, share=Share(num=1, den=1))],
            registered_at="2026-11-24T10:00:00Z",  # type: ignore[arg-type]
        )
        envelope = build_envelope(data, source="/svc-registry", subject=bin_)
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
        await producer.start()
        try:
            for _ in range(2):  # redelivery: the inbox makes the second a no-op
                await producer.send_and_wait(
                    f"{prefix}egov.registry", envelope.to_json_bytes(), key=bin_.encode()
                )
        finally:
            await producer.stop()

        found: list[dict[str, Any]] = []

        async def invoice_issued() -> bool:
            r = await svc.call("GET", "/invoices", client="citizen", user=director)
            found[:] = r.json()
            return len(found) == 1

        await svc.wait_for(invoice_issued, "the state duty invoice", within=60)
        inv = found[0]
        assert inv["payer"] == bin_ and inv["reference"] == bin_
        await svc.pay(inv | {"payer": director})

        async def published() -> bool:
            events = await _read_all(kafka.bootstrap_servers, f"{prefix}egov.payments")
            types = [e.type for e in events if e.subject == inv["id"]]
            return types == [
                "kz.egov.payments.invoice.issued.v1",
                "kz.egov.payments.invoice.paid.v1",
            ]

        await svc.wait_for(published, "InvoiceIssued then InvoicePaid on egov.payments", within=60)
