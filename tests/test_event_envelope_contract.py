"""The envelope contract over real events (DESIGN §3, §5): the three composites (*Birth of a
child*, *Open a business* with a license, *Buy a home*) run on the process mesh, then every
event on the mesh's topics that belongs to their applications is checked —

* one correlationid form: the application's bare id, on every event of the application in
  every service (no ``<id>.<step>.<attempt>`` request ids, no agency's own ids) — also on the
  events written later, outside the step's request: an invoice paid at the bank, a licence
  issued on that payment, a notarial act registered on its last signature;
* causationid never null, and when it names an event or a step's request, that one is of the
  same application;
* money always with its currency;
* every type in the served catalogue, its data valid against the catalogue's schema.

An event belongs to an application when it is correlated with it, caused by one of its steps'
requests, or names (``invoice_id``, ``reference``, ``act_number``…) something an event of the
application named: the closure does not trust the correlationid it checks.
"""

from __future__ import annotations

import json
import random
import re
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
from cryptography import x509

from meshkit import calendar
from meshkit.documents import DocumentSigner, load_pem_chain
from meshkit_testing.ca import make_csr, sign_content
from meshkit_testing.polling import eventually
from meshkit_testing.processes import ProcessMesh, single_window_mesh

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
PRODUCERS = ("gateway", "identity", "registry", "licensing", "payments", "notary")
# demo citizens of identity (svc-identity/egov_identity/seed.py)
MOTHER, MOTHER_PHONE = "920308400210", "+77021234568"
FATHER, FATHER_PHONE = "900115300122", "+77011234567"
SELLER, SELLER_PHONE = "851123300454", "+77051234569"
BUYER, BUYER_PHONE = "780430400520", "+77071234570"
NOTARY, NOTARY_PHONE = "680211300740", "+77751234572"
#: the data fields naming a thing of one application (never a person: a citizen's IIN is
#: shared by all their applications)
LINKS = (
    "application_id",
    "application_ref",
    "reference",
    "invoice_id",
    "refund_id",
    "payout_id",
    "bin",
    "act_id",
    "act_number",
    "license_number",
    "number",
    "cadastral_number",
)
#: a step's request id: <application id>.<step>.<attempt>
STEP_REQUEST = re.compile(r"^(?P<app>[0-9a-f-]{36})\.\d+\.\d+$")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def routed(token: str, purpose: str) -> dict[str, str]:
    return {**bearer(token), "X-Mesh-Purpose": purpose}


async def apply(gw: httpx.AsyncClient, token: str, code: str, payload: dict[str, Any]) -> str:
    r = await gw.post(
        "/api/v1/applications",
        json={"service_code": code, "payload": payload},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def application(gw: httpx.AsyncClient, token: str, app_id: str) -> dict[str, Any]:
    r = await gw.get(f"/api/v1/applications/{app_id}", headers=bearer(token))
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    assert found["status"] != "failed", found["failure_reason"]
    return found


async def completed(gw: httpx.AsyncClient, token: str, app_id: str, within: float) -> None:
    async def done() -> bool:
        return (await application(gw, token, app_id))["status"] == "completed"

    await eventually(done, within=within, what=f"application {app_id} completed")


async def step_waiting(gw: httpx.AsyncClient, token: str, app_id: str, name: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def waiting() -> bool:
        step = {s["name"]: s for s in (await application(gw, token, app_id))["steps"]}[name]
        seen.update(step)
        return bool(step["status"] == "waiting" and step["result"])

    await eventually(waiting, within=90, what=f"step {name} waiting for its event")
    return seen


async def invoice_of(
    gw: httpx.AsyncClient, token: str, reference: str, what: str
) -> dict[str, Any]:
    """The citizen's invoice with this reference, once issued."""
    found: dict[str, Any] = {}

    async def issued() -> bool:
        r = await gw.get("/x/payments/invoices", headers=bearer(token))
        assert r.status_code == 200, r.text
        found.update(next((i for i in r.json() if i["reference"] == reference), {}))
        return bool(found)

    await eventually(issued, within=90, what=what)
    return found


async def pay_at_the_bank(mesh: ProcessMesh, gw: httpx.AsyncClient, token: str, inv: str) -> None:
    """The payer opens a payment session (routed), then approves it at the sandbox acquirer's
    own site — not via the gateway, in a request that knows no application."""
    r = await gw.post(f"/x/payments/invoices/{inv}/payments", headers=bearer(token))
    assert r.status_code == 201, r.text
    r = await gw.post(
        f"{mesh.url('payments')}/sandbox-acquirer/pay/{r.json()['acquirer_payment_id']}",
        json={"decision": "approve"},
    )
    assert r.status_code == 200 and r.json()["status"] == "captured", r.text


async def certify(
    gw: httpx.AsyncClient, token: str, iin: str, *, holder_iin: str | None = None
) -> DocumentSigner:
    """A signing key certified by the national CA (identity) from a CSR, through the gateway."""
    key, csr = make_csr(cn="whoever", serial=iin)
    body: dict[str, Any] = {"csr_pem": csr, "usage": "signing"}
    if holder_iin:
        body["holder_iin"] = holder_iin
    r = await gw.post(
        "/x/identity/ca/certificates", json=body, headers=routed(token, "contract: signing key")
    )
    assert r.status_code == 201, r.text
    chain: list[x509.Certificate] = load_pem_chain(r.json()["certificate_pem"])
    return DocumentSigner(key, chain)


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


def links(event: dict[str, Any]) -> set[str]:
    data = event.get("data") or {}
    return {str(data[k]) for k in LINKS if isinstance(data.get(k), str | int) and data[k]}


def of_application(events: list[dict[str, Any]], app_id: str) -> list[dict[str, Any]]:
    """The events of one application: correlated with it (in any form), caused by one of its
    steps' requests or by one of its events, or naming something one of its events named."""
    mine: dict[str, dict[str, Any]] = {
        e["id"]: e
        for e in events
        if (e.get("correlationid") or "").split(".")[0] == app_id
        or (e.get("causationid") or "").startswith(f"{app_id}.")
    }
    keys = {app_id}
    grew = True
    while grew:
        for e in mine.values():
            keys |= links(e)
        more = {
            e["id"]: e
            for e in events
            if e["id"] not in mine and (links(e) & keys or e.get("causationid") in mine)
        }
        mine.update(more)
        grew = bool(more)
    return list(mine.values())


async def until_on_the_mesh(
    mesh: ProcessMesh, bootstrap: str, wanted: dict[str, set[str]]
) -> list[dict[str, Any]]:
    """The topics once each application's wanted event types are there (relays publish after
    the commit: an application may complete before its last events reach Kafka)."""
    events: list[dict[str, Any]] = []

    async def all_there() -> bool:
        events[:] = await mesh_events(mesh, bootstrap)
        return all(
            types <= {e["type"] for e in of_application(events, a)} for a, types in wanted.items()
        )

    try:
        await eventually(all_there, within=60, interval=0.5, what=f"{wanted}")
    except pytest.fail.Exception:
        seen = {
            a: sorted((e["type"], e.get("correlationid")) for e in of_application(events, a))
            for a in wanted
        }
        pytest.fail(f"{wanted} not all there; {len(events)} events, theirs: {seen}")
    return events


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


async def a_flat_and_a_notary(mesh: ProcessMesh, gw: httpx.AsyncClient) -> tuple[str, str]:
    """*Buy a home*'s preconditions through the services' real APIs: the grants (register
    admin API), a flat owned by the seller (registry), a licensed notary (notary)."""
    licensing = mesh.agency_token("licensing")
    admin = bearer(mesh.dev_secret("gateway-admin"))
    for client, operation in (
        ("licensing", "registry:POST /properties"),
        ("licensing", "notary:POST /notaries"),
        ("notary", "identity:POST /ca/certificates"),
    ):
        r = await gw.post(
            "/api/v1/admin/grants",
            json={"client": client, "operation_id": operation},
            headers=admin,
        )
        assert r.status_code in (200, 201), r.text
    rnd = random.Random()
    cadastral = f"21:{rnd.randrange(100, 999)}:{rnd.randrange(100, 999)}:{rnd.randrange(1, 99999)}"

    async def property_registered() -> bool:
        r = await gw.post(
            "/x/registry/properties",
            json={
                "cadastral_number": cadastral,
                "kind": "apartment",
                "address": "Астана қ., Қабанбай батыр д., 11, 42 п.",
                "area_m2": "64.20",
                "owners": [{"id": SELLER, "share": {"num": 1, "den": 1}}],
            },
            headers=routed(licensing, "contract: a flat for sale"),
        )
        assert r.status_code in (201, 403), r.text  # 403 until the grant is loaded
        return r.status_code == 201

    await eventually(property_registered, within=30, what="the property registered")
    r = await gw.post(
        "/x/notary/notaries",
        json={
            "iin": NOTARY,
            "full_name": "Жаһанов Ғалым Өтегенұлы",
            "license_number": f"ENV{rnd.randrange(10**6)}",
            "region": "Астана",
        },
        headers=routed(licensing, "contract: license a notary"),
    )
    assert r.status_code == 201, r.text
    return cadastral, NOTARY


async def test_events_of_the_composites_keep_the_envelope_contract(
    mesh: ProcessMesh, kafka: Any
) -> None:
    tokens = {
        iin: mesh.login(iin, phone)
        for iin, phone in (
            (MOTHER, MOTHER_PHONE),
            (FATHER, FATHER_PHONE),
            (SELLER, SELLER_PHONE),
            (BUYER, BUYER_PHONE),
            (NOTARY, NOTARY_PHONE),
        )
    }
    father = tokens[FATHER]
    async with httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30) as gw:
        cadastral, notary = await a_flat_and_a_notary(mesh, gw)
        signers = {
            NOTARY: await certify(gw, mesh.agency_token("notary"), NOTARY, holder_iin=NOTARY),
            SELLER: await certify(gw, tokens[SELLER], SELLER),
            BUYER: await certify(gw, tokens[BUYER], BUYER),
        }
        born = calendar.local_date(datetime.now(UTC)) - timedelta(days=1)
        birth = await apply(
            gw,
            tokens[MOTHER],
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
                "license": {
                    "license_type": "EXPORT_IMPORT_ONEOFF",
                    "details": {"contract_number": "EX-2026-17", "hs_code": "090111"},
                },
            },
        )
        home = await apply(
            gw,
            tokens[BUYER],
            "cx-buy-home",
            {
                "cadastral_number": cadastral,
                "notary_iin": notary,
                "buyers": [{"iin": BUYER, "share": {"num": 1, "den": 1}}],
                "price_tiyn": 3_200_000_000,
            },
        )
        # the state duty payments issued on the registry's event, paid by the director
        duty = await invoice_of(gw, father, business, "the state duty invoice")
        await pay_at_the_bank(mesh, gw, father, duty["id"])
        # the notary's fee, paid by the buyer; then the parties and the notary sign, each in
        # a request of their own (the act registers itself on the last signature)
        fee = await step_waiting(gw, tokens[BUYER], home, "notary_fee")
        await pay_at_the_bank(mesh, gw, tokens[BUYER], fee["result"]["id"])
        await step_waiting(gw, tokens[BUYER], home, "signatures")
        act = {s["name"]: s for s in (await application(gw, tokens[BUYER], home))["steps"]}[
            "sale_contract"
        ]["result"]["id"]
        for iin, path in (
            (SELLER, "signatures"),
            (BUYER, "signatures"),
            (NOTARY, "notary-signature"),
        ):
            r = await gw.get(f"/x/notary/acts/{act}/content", headers=bearer(tokens[iin]))
            assert r.status_code == 200, r.text
            r = await gw.post(
                f"/x/notary/acts/{act}/{path}",
                json={"jws": sign_content(signers[iin], r.json())},
                headers=bearer(tokens[iin]),
            )
            assert r.status_code == 200, r.text
        await completed(gw, tokens[MOTHER], birth, within=90)
        await completed(gw, father, business, within=120)
        await completed(gw, tokens[BUYER], home, within=120)
        # the license fee licensing billed the new LLP, paid by its director after the
        # application completed: licensing issues the license on that payment
        steps = {s["name"]: s for s in (await application(gw, father, business))["steps"]}
        licence = steps["license_application"]["result"]["id"]
        licence_fee = await invoice_of(gw, father, licence, "the license fee invoice")
        await pay_at_the_bank(mesh, gw, father, licence_fee["id"])
        r = await gw.get("/api/v1/events/catalogue")
        assert r.status_code == 200, r.text
        catalogue = r.json()

    submitted = "kz.egov.gateway.application.submitted.v1"
    paid = "kz.egov.payments.invoice.paid.v1"
    events = await until_on_the_mesh(
        mesh,
        kafka.bootstrap_servers,
        {
            birth: {submitted, "kz.egov.registry.birth.registered.v1"},
            business: {
                submitted,
                "kz.egov.registry.legal_entity.registered.v1",
                paid,
                "kz.egov.licensing.application.submitted.v1",
                "kz.egov.licensing.license.issued.v1",
            },
            home: {
                submitted,
                paid,
                "kz.egov.notary.act.registered.v1",
                "kz.egov.registry.property.transferred.v1",
                "kz.egov.notary.act.executed.v1",
            },
        },
    )
    by_id = {e["id"]: e for e in events}
    members = {a: of_application(events, a) for a in (birth, business, home)}
    owner = {e["id"]: a for a, mine in members.items() for e in mine}
    messages = {m["name"]: m for m in catalogue["components"]["messages"].values()}
    wrong: list[str] = []
    for app_id, mine in members.items():
        producers = {e["source"] for e in mine}
        # the gateway's own events and at least one agency's: the form crosses services
        assert "/svc-gateway" in producers and len(producers) >= 2, producers
        assert any(e["type"] == submitted for e in mine)
        for e in mine:
            where = f"{e['type']} from {e['source']}"
            cause = e.get("causationid")
            if e["correlationid"] != app_id:
                wrong.append(f"{where}: correlationid {e['correlationid']}, not {app_id}")
            if not cause:
                wrong.append(f"{where}: no causationid")
            elif cause == e["id"]:
                wrong.append(f"{where}: caused by itself")
            elif cause in by_id and owner.get(cause) != app_id:
                wrong.append(f"{where}: caused by {by_id[cause]['type']} of another application")
            elif (step := STEP_REQUEST.match(cause)) and step["app"] != app_id:
                wrong.append(f"{where}: caused by a step request of another application {cause}")
    assert not wrong, "\n".join(sorted(set(wrong)))
    # every event on the mesh: money with its currency, every type catalogued, data valid
    assert len(events) > 20
    for e in events:
        where = f"{e['type']} from {e['source']} ({e['id']})"
        for path, holder in money_fields(e["data"]):
            assert holder.get("currency") == "KZT", f"{where}: {path} has no currency"
        assert e["type"] in messages, f"{where}: not in the catalogue"
        schema = {**messages[e["type"]]["payload"], "components": catalogue["components"]}
        jsonschema.validate(e["data"], schema)
