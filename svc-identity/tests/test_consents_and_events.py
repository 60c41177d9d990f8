"""Consents, and the events identity consumes (birth → family links; death → record closed,
certificates and sessions revoked), idempotently."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from egov_identity.handlers import handlers
from meshkit.contracts.registry import BirthRegistered, DeathRegistered
from meshkit.events import build_envelope, registry
from meshkit.messaging.handlers import dispatch
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.polling import eventually
from meshkit_testing.services import build_app

ALIKHAN, GULNUR, NURSULTAN, ERGALI = "900115300122", "920308400210", "190601500314", "851123300454"


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_consent_grant_check_list_revoke(svc: Any) -> None:
    body = {
        "agency": "payments",
        "categories": ["personal", "contacts"],
        "purpose": "бала туғанда берілетін жәрдемақы",
        "expires_at": in_days(30),
    }
    r = await svc.routed("POST", "/consents", json=body, client="payments", user=ALIKHAN)
    assert r.status_code == 403  # only the citizen grants
    r = await svc.as_citizen("POST", "/consents", ALIKHAN, json=body)
    assert r.status_code == 201, r.text
    consent = r.json()
    assert consent["iin"] == ALIKHAN and consent["active"]
    assert consent["purpose"] == "бала туғанда берілетін жәрдемақы"
    check = "/consents/check"
    q = {"iin": ALIKHAN, "agency": "payments", "category": "contacts"}
    r = await svc.routed("GET", check, client="payments", params=q)
    assert r.status_code == 200 and r.json()["allowed"] and r.json()["consent_id"] == consent["id"]
    r = await svc.routed("GET", check, client="payments", params={**q, "category": "property"})
    assert r.json() == {"allowed": False, "consent_id": None, "expires_at": None, "purpose": None}
    r = await svc.routed("GET", check, client="payments", params={**q, "category": "money"})
    assert r.status_code == 422
    r = await svc.routed("GET", check, client="payments", params={**q, "iin": "900115300123"})
    assert r.status_code == 422 and "check digit" in r.json()["errors"]["query.iin"]
    r = await svc.as_citizen("GET", "/consents", ALIKHAN)
    assert [c["id"] for c in r.json()] == [consent["id"]]
    r = await svc.routed("GET", "/consents", client="payments", params={"iin": ALIKHAN})
    assert [c["id"] for c in r.json()] == [consent["id"]]
    r = await svc.routed("GET", "/consents", client="licensing", params={"iin": ALIKHAN})
    assert r.json() == []  # an agency sees only what was granted to it
    r = await svc.as_citizen("GET", "/consents", GULNUR)
    assert r.json() == []
    r = await svc.as_citizen("DELETE", f"/consents/{consent['id']}", GULNUR)
    assert r.status_code == 404
    r = await svc.as_citizen("DELETE", f"/consents/{consent['id']}", ALIKHAN)
    assert r.status_code == 200 and not r.json()["active"] and r.json()["revoked_at"]
    r = await svc.routed("GET", check, client="payments", params=q)
    assert not r.json()["allowed"]
    r = await svc.as_citizen("POST", "/consents", ALIKHAN, json={**body, "expires_at": in_days(-1)})
    assert r.status_code == 422 and "expires_at" in r.json()["errors"]
    events = await svc.events()
    kinds = [e["type"] for e in events if ".consent." in e["type"]]
    assert kinds == [
        "kz.egov.identity.consent.granted.v1",
        "kz.egov.identity.consent.revoked.v1",
    ]
    assert events[-1]["subject"] == ALIKHAN


def _event(data: Any) -> Any:
    envelope = build_envelope(data, source="/svc-registry", subject=getattr(data, "iin", None))
    return registry.parse(envelope)


async def deliver(svc: Any, data: Any) -> None:
    """Like the consumer: handlers run inside its open unit of work, which it commits."""
    uow = svc.app.state.runtime.uow_factory()
    async with uow:
        await dispatch(handlers, _event(data), uow)
        await uow.commit()


async def test_birth_event_links_child_to_parents_idempotently(svc: Any) -> None:
    # the registry first had identity allocate the IIN (without parents), then registered it
    child = {
        "surname": "Сәрсенбаев",
        "given_name": "Еламан",
        "birth_date": "2026-01-10",
        "sex": "male",
    }
    r = await svc.routed("POST", "/persons", json=child)
    iin = r.json()["iin"]
    birth = BirthRegistered(
        act_number="B-2026-000042",
        child_iin=iin,
        surname="Сәрсенбаев",
        given_name="Еламан",
        birth_date=date(2026, 1, 10),
        sex="male",
        place="Алматы",
        mother_iin=GULNUR,
        father_iin=ALIKHAN,
        registered_at=datetime.now(UTC),
    )
    for _ in range(2):  # a logically duplicate event (new id, same content) changes nothing
        await deliver(svc, birth)
    person = (await svc.routed("GET", f"/persons/{iin}")).json()
    assert (person["mother_iin"], person["father_iin"]) == (GULNUR, ALIKHAN)
    fam = (await svc.as_citizen("GET", f"/persons/{GULNUR}/family", GULNUR)).json()
    assert {c["iin"] for c in fam["children"]} == {NURSULTAN, iin}
    updates = await svc.events("identity.person.updated.v1")
    assert [u["data"]["changed"] for u in updates] == [["mother_iin", "father_iin"]]
    # a birth identity never heard of (IIN allocated elsewhere) still enters the register
    unknown = birth.model_copy(update={"child_iin": "260110500093", "given_name": "Мирас"})
    await deliver(svc, unknown)
    person = (await svc.routed("GET", "/persons/260110500093")).json()
    assert person["given_name"] == "Мирас" and person["father_iin"] == ALIKHAN


async def test_death_event_closes_record_revokes_certificates_and_sessions(svc: Any) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import CertificateSigningRequestBuilder, Name

    key = ec.generate_private_key(ec.SECP256R1())
    csr = CertificateSigningRequestBuilder().subject_name(Name([])).sign(key, hashes.SHA256())
    pem = csr.public_bytes(serialization.Encoding.PEM).decode()
    r = await svc.as_citizen("POST", "/ca/certificates", ERGALI, json={"csr_pem": pem})
    serial = r.json()["serial"]
    tokens = await svc.login(ERGALI)
    death = DeathRegistered(
        act_number="D-2026-000007",
        iin=ERGALI,
        date_of_death=date(2026, 2, 1),
        registered_at=datetime.now(UTC),
    )
    for _ in range(2):
        await deliver(svc, death)
    person = (await svc.routed("GET", f"/persons/{ERGALI}")).json()
    assert person["status"] == "deceased" and person["date_of_death"] == "2026-02-01"
    status = (await svc.client.get(f"/ca/certificates/{serial}")).json()
    assert status["status"] == "revoked" and status["reason"] == "holder_deceased"
    r = await svc.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert (
        await svc.client.post("/auth/login", json={"iin": ERGALI, "password": svc.demo_password})
    ).status_code == 401
    assert len(await svc.events("identity.person.deceased.v1")) == 1
    assert len(await svc.events("identity.certificate.revoked.v1")) == 1


@pytest.mark.integration
@pytest.mark.kafka
async def test_events_through_kafka(tmp_path: Any, kafka: Any) -> None:
    """Registry's events arrive over Kafka (inbox dedups a redelivery); identity's own events
    leave through the outbox relay to egov.identity."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    gw = FakeGateway(tmp_path)
    app = build_app(
        "identity",
        tmp_path,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        topic_prefix=prefix,
        gateway_jwks_url=gw.jwks_url,
        password_time_cost=1,
        password_memory_kib=8192,
        password_parallelism=1,
    )
    async with running(app) as client:
        death = DeathRegistered(
            act_number="D-1",
            iin=ERGALI,
            date_of_death=date(2026, 2, 1),
            registered_at=datetime.now(UTC),
        )
        envelope = build_envelope(death, source="/svc-registry", subject=ERGALI)
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
        await producer.start()
        try:
            for _ in range(2):  # the same envelope twice: a redelivery
                await producer.send_and_wait(
                    f"{prefix}egov.registry", envelope.to_json_bytes(), key=ERGALI.encode()
                )
        finally:
            await producer.stop()

        async def deceased() -> bool:
            hdrs = gw.headers("identity", "GET", f"/persons/{ERGALI}", client="registry")
            r = await client.get(f"/persons/{ERGALI}", headers=hdrs)
            return bool(r.json()["status"] == "deceased")

        await eventually(deceased, within=60, what="the death event to be consumed")
        consumer = AIOKafkaConsumer(
            f"{prefix}egov.identity",
            bootstrap_servers=kafka.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=f"test-{uuid.uuid4().hex[:6]}",
        )
        await consumer.start()
        seen: list[dict[str, Any]] = []
        try:

            async def published() -> bool:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    import json

                    seen.extend(json.loads(m.value) for m in messages)
                return any(e["type"].endswith("person.deceased.v1") for e in seen)

            await eventually(published, within=60, what="identity.person.deceased on Kafka")
        finally:
            await consumer.stop()
        deceased_events = [e for e in seen if e["type"].endswith("person.deceased.v1")]
        assert len(deceased_events) == 1 and deceased_events[0]["subject"] == ERGALI
        assert deceased_events[0]["data"]["act_number"] == "D-1"
