"""Scale-out: second replicas behind the same PostgreSQL and Kafka, as real processes.

1. Two gateway processes (``GATEWAY_INSTANCE_ID`` gw-a / gw-b, their own ports, ONE
   PostgreSQL database, started together so their migrations race) route calls to a real
   svc-registry process. Both answer; every answered call has exactly one audit record, in
   the chain of the replica that answered it; each replica's ``/api/v1/audit/verify`` proves
   BOTH chains intact, and either replica's audit search finds the other's records.
2. Two svc-payments processes on ONE PostgreSQL database and one broker (consumer group
   ``svc-payments``; ``egov.registry`` created with 3 partitions): registry's
   ``LegalEntityRegistered`` events are shared between the two consumers (both apply some,
   each event applied once: one inbox row, one state-duty invoice), and the two outbox
   relays publish every ``InvoiceIssued`` exactly once on ``egov.payments`` — no double
   send, none lost.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, text

from egov_gateway.exchange.adapters.audit_tables import audit_log
from meshkit.contracts.common import Share
from meshkit.contracts.registry import Founder, LegalEntityRegistered
from meshkit.db import create_engine
from meshkit.events import CloudEvent, build_envelope
from meshkit.ids import random_bin, random_iin
from meshkit.messaging import inbox
from meshkit_testing.devinfra import free_port
from meshkit_testing.gateway import ProcessMeshKit
from meshkit_testing.polling import eventually
from meshkit_testing.processes import ServiceProcesses, metric_total
from meshkit_testing.topics import create_topic, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

CALLS_PER_GATEWAY = 150
MIN_EVENTS = 200


async def _count(db_url: str, query: Any) -> int:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def test_two_gateway_replicas_on_one_database_keep_every_audit_chain_verifiable(
    tmp_path: Path, pg_url: str
) -> None:
    kit = ProcessMeshKit(tmp_path)
    registry_port = free_port()
    kit.write_register(registry_port)
    ports = {"gw-a": free_port(), "gw-b": free_port()}
    procs = ServiceProcesses(tmp_path / "processes.log")
    try:
        registry = procs.spawn("egov_registry", kit.registry_env(registry_port))
        # both replicas start at once on an empty database: their migrations race
        gateways = {
            gw: procs.spawn("egov_gateway", kit.gateway_env(port, pg_url, GATEWAY_INSTANCE_ID=gw))
            for gw, port in ports.items()
        }
        await procs.wait_live(f"http://127.0.0.1:{registry_port}", registry)
        urls = {gw: f"http://127.0.0.1:{port}" for gw, port in ports.items()}
        await asyncio.gather(*(procs.wait_live(urls[gw], p) for gw, p in gateways.items()))

        token = kit.identity.token("agency", "licensing", ttl=3600)
        answered: dict[str, str] = {}  # request id -> replica that answered

        async def client(c: httpx.AsyncClient, gw: str, n: int) -> None:
            for _ in range(n):
                rid = f"req-scale-{gw}-{uuid.uuid4().hex}"
                r = await c.get(
                    f"{urls[gw]}/x/registry/mesh/whoami",
                    headers={"Authorization": f"Bearer {token}", "X-Request-Id": rid},
                )
                assert r.status_code == 200, r.text
                assert r.json()["request_id"] == rid
                assert r.headers["x-request-id"] == rid
                answered[rid] = gw

        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=16)) as c:
            # 6 concurrent clients per replica, interleaved, so both chains grow at once
            await asyncio.gather(
                *(client(c, gw, CALLS_PER_GATEWAY // 6) for gw in urls for _ in range(6))
            )
            per_replica = Counter(answered.values())
            assert per_replica == {"gw-a": CALLS_PER_GATEWAY, "gw-b": CALLS_PER_GATEWAY}

            # every answered call: exactly one record, in the chain of the replica that answered
            engine = create_engine(pg_url)
            try:
                async with engine.connect() as conn:
                    rows = (
                        await conn.execute(select(audit_log.c.request_id, audit_log.c.instance_id))
                    ).all()
            finally:
                await engine.dispose()
            recorded = Counter(rid for rid, _ in rows)
            assert len(rows) == len(answered) == 2 * CALLS_PER_GATEWAY
            assert all(recorded[rid] == 1 for rid in answered), "a call audited twice or never"
            assert {rid: inst for rid, inst in rows} == answered

            op = kit.identity.bearer("operator", "op-1", roles=["auditor"])
            for gw, url in urls.items():
                r = await c.get(f"{url}/api/v1/audit/verify", headers=op)
                report: dict[str, Any] = r.json()
                assert r.status_code == 200 and report["ok"] is True, (gw, report)
                assert report["records_checked"] == 2 * CALLS_PER_GATEWAY
                assert report["chains"] == {"gw-a": CALLS_PER_GATEWAY, "gw-b": CALLS_PER_GATEWAY}
                # one audit log for operators: this replica finds the other one's records
                other = next(rid for rid, g in answered.items() if g != gw)
                r = await c.get(f"{url}/api/v1/audit", params={"request_id": other}, headers=op)
                assert r.status_code == 200, r.text
                [item] = r.json()["items"]
                assert item["instance_id"] != gw and item["status"] == 200
    finally:
        procs.stop_all()


def _legal_entity(rng: random.Random) -> LegalEntityRegistered:
    director = random_iin(rng)
    return LegalEntityRegistered(
        bin=random_bin(rng, entity_type="resident", kind="head"),
        name_kk="«Өрлеу» ЖШС",
        name_ru="ТОО «Орлеу»",
        legal_form="LLP",
        director_iin=director,
        founders=[Founder(id=director, share=Share(num=1, den=1))],
        registered_at=datetime.now(UTC),
    )


@pytest.mark.kafka
async def test_two_payments_replicas_share_partitions_and_never_double_send(
    tmp_path: Path, pg_url: str, kafka: Any
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    kit = ProcessMeshKit(tmp_path)
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    procs = ServiceProcesses(tmp_path / "processes.log")
    rng = random.Random(1010)
    sent: dict[str, str] = {}  # event id -> BIN
    # three partitions for two consumers of one group, whatever the broker's default
    await create_topic(kafka.bootstrap_servers, f"{prefix}egov.registry", partitions=3)
    try:
        replicas = [
            procs.spawn(
                "egov_payments",
                {
                    "PAYMENTS_PORT": str(port),
                    "PAYMENTS_DATA_DIR": str(tmp_path / f"payments-{port}"),
                    "PAYMENTS_DATABASE_URL": pg_url,
                    "PAYMENTS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                    "PAYMENTS_TOPIC_PREFIX": prefix,
                    "PAYMENTS_ACQUIRER_HMAC_SECRET": "scale-out-test-secret",
                    "PAYMENTS_GATEWAY_JWKS_URL": f"file://{kit.gateway_jwks_path}",
                    "PAYMENTS_LOG_LEVEL": "WARNING",
                },
            )
            for port in ports
        ]
        await asyncio.gather(*(procs.wait_live(u, p) for u, p in zip(urls, replicas, strict=True)))

        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
        await producer.start()
        async with httpx.AsyncClient(timeout=10) as c:

            async def consumed() -> list[float]:
                return [
                    await metric_total(c, u, "mesh_events_consumed_total", service="payments")
                    for u in urls
                ]

            try:

                async def both_replicas_consume() -> bool:
                    # events keep coming, 20 at a time, until each replica has applied some
                    # (the group has shared its partitions between the two consumers) and
                    # at least MIN_EVENTS were sent
                    if len(sent) >= MIN_EVENTS and min(await consumed()) > 0:
                        return True
                    for _ in range(20):
                        data = _legal_entity(rng)
                        envelope = build_envelope(data, source="/svc-registry", subject=data.bin)
                        await producer.send_and_wait(
                            f"{prefix}egov.registry",
                            envelope.to_json_bytes(),
                            key=data.bin.encode(),
                        )
                        sent[envelope.id] = data.bin
                    return False

                await eventually(
                    both_replicas_consume,
                    within=120,
                    what="both replicas to consume from their share of the partitions",
                    interval=0.2,
                )
            finally:
                await producer.stop()
            total = len(sent)
            assert len(set(sent.values())) == total

            async def all_applied() -> bool:
                return sum(await consumed()) >= total

            await eventually(all_applied, within=90, what=f"all {total} events applied")

            async def all_published() -> bool:
                published = [
                    await metric_total(c, u, "mesh_outbox_published_total", service="payments")
                    for u in urls
                ]
                return sum(published) >= total

            await eventually(all_published, within=90, what=f"{total} invoices published")

            applied = await consumed()
            published = [
                await metric_total(c, u, "mesh_outbox_published_total", service="payments")
                for u in urls
            ]
            duplicates = [
                await metric_total(c, u, "mesh_events_duplicate_total", service="payments")
                for u in urls
            ]
            dead = [
                await metric_total(c, u, "mesh_events_dead_lettered_total", service="payments")
                for u in urls
            ]

        records = await read_topic(
            kafka.bootstrap_servers, f"{prefix}egov.payments", total, within=60
        )
    finally:
        procs.stop_all()

    print(
        f"\n{total} events; applied per replica {applied}, published per replica {published}, "
        f"duplicates skipped {duplicates}, dead-lettered {dead}"
    )
    # consumers: the partitions are shared, every event applied exactly once
    assert min(applied) > 0, f"one replica consumed nothing: {applied}"
    assert sum(applied) == total, f"applied {applied} for {total} events"
    assert sum(dead) == 0
    assert await _count(pg_url, select(func.count()).select_from(inbox)) == total
    assert await _count(pg_url, text("SELECT count(*) FROM invoices")) == total
    # relays: every invoice event published by exactly one of the two, once
    assert sum(published) == total, f"published {published} for {total} invoices"
    on_topic = [CloudEvent.from_json_bytes(r.value) for r in records]
    issued = [e for e in on_topic if e.type == "kz.egov.payments.invoice.issued.v1"]
    ids = Counter(e.id for e in issued)
    assert len(issued) == total, f"{len(issued)} InvoiceIssued on the topic for {total} invoices"
    assert max(ids.values()) == 1, "an event was sent twice"
    assert len({e.subject for e in issued}) == total, "one InvoiceIssued per invoice"
