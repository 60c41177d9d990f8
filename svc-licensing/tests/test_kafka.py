"""End to end over a real Kafka: payments.invoice.paid (delivered twice) and
registry.legal_entity.status_changed are consumed; licensing events are published."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from licensing_harness import bin_, iin, licensing_mesh

from meshkit.calendar import ALMATY
from meshkit.contracts.payments import InvoicePaid
from meshkit.contracts.registry import LegalEntityStatusChanged
from meshkit.events import build_envelope
from meshkit.messaging.kafka import CONTENT_TYPE, make_producer
from meshkit_testing.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


async def _publish(servers: str, topic: str, envelopes: list[Any]) -> None:
    producer = make_producer(servers, client_id="test-producer")
    await producer.start()
    try:
        for e in envelopes:
            await producer.send_and_wait(
                topic,
                e.to_json_bytes(),
                key=(e.subject or e.id).encode(),
                headers=[("content-type", CONTENT_TYPE)],
            )
    finally:
        await producer.stop()


async def _read_all(servers: str, topic: str) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=servers, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1500)
            if not batch:
                return out
            for records in batch.values():
                out.extend(json.loads(r.value) for r in records if r.value)
    finally:
        await consumer.stop()


async def test_paid_twice_over_kafka_gives_one_license_and_liquidation_revokes_it(
    tmp_path: Path, kafka: Any, database_url: str | None
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    servers = kafka.bootstrap_servers
    start = datetime(2026, 3, 20, 10, 0, tzinfo=ALMATY)
    async with licensing_mesh(
        tmp_path,
        database_url=database_url,
        start=start,
        kafka_enabled=True,
        kafka_bootstrap_servers=servers,
        topic_prefix=prefix,
    ) as m:
        director = m.doubles.person(iin(1))
        b = m.doubles.entity(bin_(1), director, activity_codes=["79120"])
        app = (await m.apply("TOUR_OPERATOR", director, b, insurance_contract="ДС-2026/7")).json()
        assert app["status"] == "awaiting_payment", app
        paid = InvoicePaid(
            invoice_id=app["state_duty"]["invoice_id"],
            payer=b,
            amount_tiyn=app["state_duty"]["amount_tiyn"],
            beneficiary_agency="licensing",
            reference=app["id"],
            paid_at=datetime.now(UTC),
        )
        first = build_envelope(paid, source="/svc-payments", subject=paid.invoice_id)
        again = build_envelope(paid, source="/svc-payments", subject=paid.invoice_id)
        # the same event redelivered, and a logically duplicate second event
        await _publish(servers, f"{prefix}egov.payments", [first, first, again])

        async def approved() -> bool:
            r = await m.as_citizen("GET", f"/applications/{app['id']}", director)
            return r.json()["status"] == "approved"

        await eventually(approved, within=90, what="the license to be issued after payment")
        number = (await m.as_citizen("GET", f"/applications/{app['id']}", director)).json()[
            "license_number"
        ]

        changed = LegalEntityStatusChanged(
            bin=b,
            old_status="active",
            new_status="liquidated",
            reason="банкроттық",
            effective_date=date(2026, 3, 20),
        )
        await _publish(
            servers,
            f"{prefix}egov.registry",
            [build_envelope(changed, source="/svc-registry", subject=b)],
        )

        async def revoked() -> bool:
            return (await m.client.get(f"/public/licenses/{number}")).json()["status"] == "revoked"

        await eventually(revoked, within=60, what="the license to be revoked after liquidation")

        async def published() -> bool:
            types = [e["type"] for e in await _read_all(servers, f"{prefix}egov.licensing")]
            return "kz.egov.licensing.license.revoked.v1" in types

        await eventually(published, within=60, what="licensing events on Kafka")
        events = await _read_all(servers, f"{prefix}egov.licensing")
        mine = [e for e in events if e["subject"] in (app["id"], number)]
        types = sorted(e["type"].split(".", 2)[2] for e in mine)
        assert types == [
            "licensing.application.decided.v1",
            "licensing.application.submitted.v1",
            "licensing.license.issued.v1",
            "licensing.license.revoked.v1",
        ]
        assert all(e["source"] == "/svc-licensing" and e["specversion"] == "1.0" for e in mine)
        assert m.app.state.runtime.consumer.duplicates_total >= 1
