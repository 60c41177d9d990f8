"""The envelope contract over real events (DESIGN §3, §5): the composites run on the process
mesh, then every event on the mesh's topics that belongs to their applications is checked —

* one correlationid form: the application's bare id, on every event its steps caused, in
  every service (no ``<id>.<step>.<attempt>`` request ids);
* causationid never null (the first event names the citizen's request; the others the event
  or request that caused them);
* money always with its currency;
* every type in the served catalogue, its data valid against the catalogue's schema.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from aiokafka import AIOKafkaConsumer

from meshkit import calendar
from meshkit_testing.polling import eventually
from meshkit_testing.processes import ProcessMesh, single_window_mesh

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
PRODUCERS = ("gateway", "identity", "registry", "licensing", "payments", "notary")
MOTHER, MOTHER_PHONE = "920308400210", "+77021234568"
FATHER, FATHER_PHONE = "900115300122", "+77011234567"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def apply(gw: httpx.AsyncClient, token: str, code: str, payload: dict[str, Any]) -> str:
    r = await gw.post(
        "/api/v1/applications",
        json={"service_code": code, "payload": payload},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def completed(gw: httpx.AsyncClient, token: str, app_id: str, within: float) -> None:
    async def done() -> bool:
        r = await gw.get(f"/api/v1/applications/{app_id}", headers=bearer(token))
        assert r.status_code == 200, r.text
        assert r.json()["status"] != "failed", r.json()["failure_reason"]
        return bool(r.json()["status"] == "completed")

    await eventually(done, within=within, what=f"application {app_id} completed")


@pytest.fixture(scope="module")
def mesh(
    kafka: Any, postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProcessMesh]:
    with single_window_mesh(
        tmp_path_factory.mktemp("mesh"),
        kafka.bootstrap_servers,
        postgres,
        prefix="env",
        step_retry_for_s=10,
        cwd=ROOT,
    ) as m:
        yield m


async def mesh_events(mesh: ProcessMesh, bootstrap: str) -> list[dict[str, Any]]:
    """Every event on the mesh's six topics so far (read from the start to the end offsets)."""
    prefix = f"e2e{mesh.ports['gateway']}."
    topics = [f"{prefix}egov.{p}" for p in PRODUCERS]
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"envelope-contract-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while not consumer.assignment():  # the group's join hands out the partitions
            assert time.monotonic() < deadline, "no partitions assigned in 30 s"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                events += [json.loads(r.value) for r in records if r.value]
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in partitions])

        while await behind():
            assert time.monotonic() < deadline, "the topics were not read to their end in 30 s"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                events += [json.loads(r.value) for r in records if r.value]
        return events
    finally:
        await consumer.stop()


async def until_on_the_mesh(
    mesh: ProcessMesh, bootstrap: str, wanted: dict[str, set[str]]
) -> list[dict[str, Any]]:
    """The topics once each application's wanted event types are there (relays publish after
    the commit: an application may complete before its last events reach Kafka)."""
    events: list[dict[str, Any]] = []

    async def all_there() -> bool:
        events[:] = await mesh_events(mesh, bootstrap)
        found = {(e.get("correlationid"), e["type"]) for e in events}
        return all((a, t) in found for a, types in wanted.items() for t in types)

    try:
        await eventually(all_there, within=45, interval=0.5, what=f"{wanted}")
    except pytest.fail.Exception:
        seen = [
            (e.get("correlationid"), e.get("causationid"), e["type"])
            for e in events
            if any(a in json.dumps(e) for a in wanted)
        ]
        pytest.fail(f"{wanted} not all there; {len(events)} events, theirs: {seen}")
    return events


def of_application(events: list[dict[str, Any]], app_id: str) -> list[dict[str, Any]]:
    """The events of one application: correlated with it in any form, or caused by one of its
    steps' requests (``<id>.<step>.<attempt>``)."""
    return [
        e
        for e in events
        if (e.get("correlationid") or "").split(".")[0] == app_id
        or (e.get("causationid") or "").startswith(f"{app_id}.")
    ]


def money_fields(data: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every object holding an amount (``*_tiyn``), with where it is."""
    found = []
    if isinstance(data, dict):
        if any(k.endswith("_tiyn") for k in data):
            found.append((path or "data", data))
        for k, v in data.items():
            found += money_fields(v, f"{path}.{k}")
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found += money_fields(v, f"{path}[{i}]")
    return found


async def test_events_of_the_composites_keep_the_envelope_contract(
    mesh: ProcessMesh, kafka: Any
) -> None:
    mother = mesh.login(MOTHER, MOTHER_PHONE)
    father = mesh.login(FATHER, FATHER_PHONE)
    async with httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30) as gw:
        born = calendar.local_date(datetime.now(UTC)) - timedelta(days=1)
        birth = await apply(
            gw,
            mother,
            "cx-birth-of-child",
            {
                "surname": "Сәрсенбаев",
                "given_name": "Әмір",
                "birth_date": born.isoformat(),
                "sex": "male",
                "place": "Алматы қ., №1 перзентхана",
                "mother_iin": MOTHER,
                "father_iin": FATHER,
            },
        )
        business = await apply(
            gw,
            father,
            "cx-open-business",
            {
                "name_kk": f"«Сауда {uuid.uuid4().hex[:6]}» ЖШС",
                "name_ru": "ТОО «Сауда»",
                "founders": [{"id": FATHER, "share": {"num": 1, "den": 1}}],
                "address": "Астана қ., Мәңгілік Ел д., 8",
            },
        )
        duty: dict[str, Any] = {}

        async def duty_issued() -> bool:
            r = await gw.get("/x/payments/invoices", headers=bearer(father))
            assert r.status_code == 200, r.text
            duty.update(next((i for i in r.json() if i["reference"] == business), {}))
            return bool(duty)

        await eventually(duty_issued, within=90, what="the state duty invoice")
        r = await gw.post(f"/x/payments/invoices/{duty['id']}/payments", headers=bearer(father))
        assert r.status_code == 201, r.text
        # the payer approves at the sandbox acquirer's own site (not via the gateway)
        r = await gw.post(
            f"{mesh.url('payments')}/sandbox-acquirer/pay/{r.json()['acquirer_payment_id']}",
            json={"decision": "approve"},
        )
        assert r.status_code == 200 and r.json()["status"] == "captured", r.text
        await completed(gw, mother, birth, within=90)
        await completed(gw, father, business, within=120)
        r = await gw.get("/api/v1/events/catalogue")
        assert r.status_code == 200, r.text
        catalogue = r.json()

    submitted = "kz.egov.gateway.application.submitted.v1"
    events = await until_on_the_mesh(
        mesh,
        kafka.bootstrap_servers,
        {
            birth: {submitted, "kz.egov.registry.birth.registered.v1"},
            business: {submitted, "kz.egov.registry.legal_entity.registered.v1"},
        },
    )
    messages = {m["name"]: m for m in catalogue["components"]["messages"].values()}
    for app_id in (birth, business):
        mine = of_application(events, app_id)
        producers = {e["source"] for e in mine}
        # the gateway's own events and at least one agency's: the form crosses services
        assert "/svc-gateway" in producers and len(producers) >= 2, producers
        assert any(e["type"] == submitted for e in mine)
        for e in mine:
            where = f"{e['type']} from {e['source']} ({e['id']})"
            assert e["correlationid"] == app_id, f"{where}: correlationid {e['correlationid']}"
            assert e.get("causationid"), f"{where}: no causationid"
            assert e["causationid"] != e["id"], f"{where}: caused by itself"
    # every event on the mesh: money with its currency, every type catalogued, data valid
    assert len(events) > 10
    for e in events:
        where = f"{e['type']} from {e['source']} ({e['id']})"
        for path, holder in money_fields(e["data"]):
            assert holder.get("currency") == "KZT", f"{where}: {path} has no currency"
        assert e["type"] in messages, f"{where}: not in the catalogue"
        schema = {**messages[e["type"]]["payload"], "components": catalogue["components"]}
        jsonschema.validate(e["data"], schema)
