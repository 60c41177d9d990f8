"""Kafka secured for a multi-agency deployment (issue 19).

The unit half checks the one ACL declaration (``meshkit/reference/kafka_acls.json``)
against what each service's handlers really subscribe to, and the renderings the deploy
files are made of. The integration half starts its own broker with SASL/SCRAM and the
StandardAuthorizer, applies the declared ACLs of two agencies and shows what an agency may
and may not do: a foreign principal is refused.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from meshkit import kafka_acls
from meshkit.messaging.handlers import HandlerRegistry
from meshkit.messaging.kafka import dlq_topic, make_consumer, make_producer
from meshkit.settings import KafkaSecuritySettings
from meshkit_testing.devinfra import find_repo_root, free_port
from meshkit_testing.devinfra.kafka import LocalKafka

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the declaration


def registered_handlers() -> dict[str, HandlerRegistry]:
    """Each service's production handlers, as its runtime merges them (dev-only echo aside)."""
    from egov_gateway.handlers import handlers as gateway
    from egov_identity.handlers import handlers as identity
    from egov_licensing.handlers import build_handlers
    from egov_notary.handlers import handlers as notary
    from egov_payments.handlers import handlers as payments
    from egov_registry.handlers import handlers as registry

    return {
        "gateway": gateway,
        "identity": identity,
        "registry": registry,
        # licensing's bootstrap wires them to its components; the context is not needed here
        "licensing": build_handlers(lambda: None),
        "payments": payments,
        "notary": notary,
    }


def test_the_declaration_grants_exactly_what_each_service_consumes() -> None:
    declared = kafka_acls.declaration().principals
    handlers = registered_handlers()

    assert set(declared) == set(handlers)
    for service, registry in handlers.items():
        # a handler without a grant would be refused at run time; a grant without a
        # handler lets an agency read persons' data it has no use for
        assert set(declared[service].consumes) == registry.producers(), service


def test_an_agency_writes_only_its_own_topic_and_its_own_dead_letters() -> None:
    for service in kafka_acls.declaration().principals:
        rules = kafka_acls.bindings([service], prefix="t1-")
        written = {r.resource_name for r in rules if r.operation == "WRITE"}
        read = {r.resource_name for r in rules if r.operation == "READ"}
        group = kafka_acls.consumer_group(service)
        expected_reads = {
            f"t1-egov.{p}" for p in kafka_acls.declaration().principals[service].consumes
        }

        assert written == {f"t1-egov.{service}"} | {dlq_topic(t, group) for t in expected_reads}
        assert read - {group} == expected_reads
        assert {r.principal for r in rules} == {f"User:{service}"}
        assert all(r.resource_type == "GROUP" for r in rules if r.resource_name == group)


def test_an_unknown_producer_in_the_declaration_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown producers"):
        kafka_acls.AclDeclaration.model_validate(
            {"principals": {"identity": {"consumes": {"tax": "no such agency"}}}}
        )


def test_the_deploy_files_are_rendered_from_the_declaration() -> None:
    script = (REPO / "deploy" / "kafka" / "init-acls.sh").read_text()
    users = (REPO / "deploy" / "k8s" / "operators" / "kafka-users.yaml").read_text()

    assert script == kafka_acls.render_init_script(), "run: python -m meshkit.kafka_acls script"
    assert users == kafka_acls.render_strimzi_users(), "run: python -m meshkit.kafka_acls strimzi"


def test_the_password_is_never_shown() -> None:
    security = KafkaSecuritySettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_username="identity",
        sasl_password="s3cret-value",
    )

    assert "s3cret-value" not in repr(security)
    assert "s3cret-value" not in str(security.model_dump())
    assert security.client_options()["sasl_plain_password"] == "s3cret-value"
    assert KafkaSecuritySettings().client_options() == {}  # the default stays PLAINTEXT


async def test_the_client_factories_take_the_principal_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # what a deployed service does: the relay and the consumer call the factories without
    # ``security``, and the container's MESH_KAFKA_* variables decide
    monkeypatch.setenv("MESH_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("MESH_KAFKA_SASL_USERNAME", "payments")
    monkeypatch.setenv("MESH_KAFKA_SASL_PASSWORD", "from-the-secret")
    producer = make_producer("127.0.0.1:1", client_id="payments-relay")
    consumer = make_consumer(
        "egov.registry", bootstrap_servers="127.0.0.1:1", group_id="svc-payments", client_id="c"
    )

    for client in (producer.client, consumer._client):
        assert client._security_protocol == "SASL_PLAINTEXT"
        assert client._sasl_mechanism == "SCRAM-SHA-512"
        assert client._sasl_plain_username == "payments"
        assert client._sasl_plain_password == "from-the-secret"


# --------------------------------------------------------------------------- a real broker

AGENCIES = ("registry", "identity")  # identity reads registry's events; neither reads notary's


@pytest.fixture(scope="module")
def secured() -> Iterator[LocalKafka]:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("needs Java to run the local broker")
    workdir = Path(tempfile.mkdtemp(prefix="mesh-kafka-sasl-"))
    port = free_port()
    kafka = LocalKafka(
        find_repo_root(),
        port=port,
        controller_port=free_port(avoid=frozenset({port})),
        data_dir=workdir,
        owner_pid=os.getpid(),
        cleanup_on_owner_exit=workdir,
        sasl_users={name: secrets.token_hex(12) for name in (*AGENCIES, "notary")},
    )
    try:
        kafka.start(timeout=75)
        asyncio.run(_prepare(kafka))
        yield kafka
    finally:
        kafka.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def _prepare(kafka: LocalKafka) -> None:
    await kafka.apply_acls(kafka_acls.bindings(AGENCIES))
    admin = AIOKafkaAdminClient(
        bootstrap_servers=kafka.bootstrap_servers, **kafka.client_security().client_options()
    )
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(kafka_acls.topic(n), 1, 1) for n in ("registry", "identity", "notary")]
        )
    finally:
        await admin.close()
    # notary's topic holds an event, so a refused read is not merely an empty topic
    producer = make_producer(
        kafka.bootstrap_servers, client_id="t", security=kafka.client_security()
    )
    await producer.start()
    try:
        await producer.send_and_wait(kafka_acls.topic("notary"), b'{"iin":"900101300123"}')
    finally:
        await producer.stop()


async def refused(
    consumer: AIOKafkaConsumer, expect: type[BaseException], within: float = 30
) -> BaseException:
    """Start ``consumer`` and poll until the broker's refusal, ``expect``, is raised (at
    start or at a poll: aiokafka reports it where it first meets it); fail after ``within``."""
    deadline = time.monotonic() + within
    try:
        try:
            await consumer.start()
            while time.monotonic() < deadline:
                await consumer.getmany(timeout_ms=500)
        except expect as exc:
            return exc
    finally:
        await consumer.stop()
    pytest.fail(f"no {expect.__name__} within {within}s")


@pytest.mark.integration
@pytest.mark.kafka
async def test_an_agency_publishes_to_its_own_topic(secured: LocalKafka) -> None:
    producer = make_producer(
        secured.bootstrap_servers,
        client_id="registry",
        security=secured.client_security("registry"),
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(kafka_acls.topic("registry"), b"own")
    finally:
        await producer.stop()

    assert sent.topic == "egov.registry" and sent.offset >= 0


@pytest.mark.integration
@pytest.mark.kafka
async def test_publishing_to_another_agencys_topic_is_refused(secured: LocalKafka) -> None:
    producer = make_producer(
        secured.bootstrap_servers,
        client_id="registry",
        security=secured.client_security("registry"),
    )
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await asyncio.wait_for(
                producer.send_and_wait(kafka_acls.topic("identity"), b"forged"), 30
            )
    finally:
        await producer.stop()


@pytest.mark.integration
@pytest.mark.kafka
async def test_a_granted_consumer_reads_what_it_is_granted(secured: LocalKafka) -> None:
    producer = make_producer(
        secured.bootstrap_servers,
        client_id="registry",
        security=secured.client_security("registry"),
    )
    await producer.start()
    try:
        await producer.send_and_wait(kafka_acls.topic("registry"), b"birth")
    finally:
        await producer.stop()
    consumer = make_consumer(
        kafka_acls.topic("registry"),
        bootstrap_servers=secured.bootstrap_servers,
        group_id=kafka_acls.consumer_group("identity"),
        client_id="identity",
        security=secured.client_security("identity"),
    )
    await consumer.start()
    try:
        got: list[bytes] = []
        deadline = time.monotonic() + 30
        while b"birth" not in got:
            assert time.monotonic() < deadline, f"identity read only {got} within 30s"
            batches = await consumer.getmany(timeout_ms=500)
            got += [r.value for rs in batches.values() for r in rs if r.value is not None]
    finally:
        await consumer.stop()


@pytest.mark.integration
@pytest.mark.kafka
async def test_reading_a_topic_not_granted_is_refused(secured: LocalKafka) -> None:
    # identity holds no grant on notary's events (and the persons' IINs in them)
    consumer = make_consumer(
        kafka_acls.topic("notary"),
        bootstrap_servers=secured.bootstrap_servers,
        group_id=kafka_acls.consumer_group("identity"),
        client_id="identity",
        security=secured.client_security("identity"),
    )
    await refused(consumer, TopicAuthorizationFailedError)


@pytest.mark.integration
@pytest.mark.kafka
async def test_another_agencys_consumer_group_is_refused(secured: LocalKafka) -> None:
    # joining svc-registry would let identity steal (and skip) registry's deliveries
    consumer = AIOKafkaConsumer(
        kafka_acls.topic("registry"),
        bootstrap_servers=secured.bootstrap_servers,
        group_id=kafka_acls.consumer_group("registry"),
        enable_auto_commit=False,
        **secured.client_security("identity").client_options(),
    )
    await refused(consumer, GroupAuthorizationFailedError)


@pytest.mark.integration
@pytest.mark.kafka
async def test_a_principal_without_grants_reads_nothing(secured: LocalKafka) -> None:
    # notary is a valid user here, but none of its ACLs were applied
    consumer = AIOKafkaConsumer(
        kafka_acls.topic("registry"),
        bootstrap_servers=secured.bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        **secured.client_security("notary").client_options(),
    )
    await refused(consumer, TopicAuthorizationFailedError)


@pytest.mark.integration
@pytest.mark.kafka
async def test_a_wrong_password_is_refused(secured: LocalKafka) -> None:
    right = secured.client_security("registry")
    control = make_producer(secured.bootstrap_servers, client_id="registry", security=right)
    await control.start()  # the same user with its own password gets in
    await control.stop()
    wrong = right.model_copy(update={"sasl_password": SecretStr("not-the-password")})
    producer = make_producer(secured.bootstrap_servers, client_id="registry", security=wrong)
    try:
        with pytest.raises(KafkaConnectionError):  # aiokafka: "Unable to bootstrap"
            await asyncio.wait_for(producer.start(), 30)
    finally:
        await producer.stop()

    # and the broker says why: the SCRAM exchange failed on the credentials
    deadline = time.monotonic() + 15
    while "invalid credentials" not in secured.server_log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the broker logged no failed authentication"
        await asyncio.sleep(0.2)  # polling the log file with a deadline


@pytest.mark.integration
@pytest.mark.kafka
async def test_the_outbox_relay_and_the_consumer_work_as_their_agencies(
    secured: LocalKafka, tmp_path: Path
) -> None:
    # registry's relay publishes its outbox to egov.registry; identity's consumer (group
    # svc-identity) applies the events and commits its offsets: the ACLs suffice for both
    from meshkit.db import create_engine, session_factory
    from meshkit.messaging import EventConsumer, OutboxRelay, UnitOfWork
    from meshkit_testing.polling import eventually
    from meshkit_testing.sample_domain import (
        applied_counts,
        create_schema,
        handlers_recording,
        write_changes,
    )

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'mesh.db'}")
    await create_schema(engine)
    sf = session_factory(engine)
    bootstrap = secured.bootstrap_servers
    relay = OutboxRelay(
        sf,
        bootstrap_servers=bootstrap,
        service="registry",
        producer_factory=lambda: make_producer(
            bootstrap, client_id="registry-relay", security=secured.client_security("registry")
        ),
    )
    topic = kafka_acls.topic("registry")
    group = kafka_acls.consumer_group("identity")
    consumer = EventConsumer(
        topics=[topic],
        group_id=group,
        bootstrap_servers=bootstrap,
        handlers=handlers_recording(),
        uow_factory=lambda: UnitOfWork(sf, source="/svc-registry", topic=topic),
        service="identity",
        consumer_factory=lambda: make_consumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id="identity-consumer",
            security=secured.client_security("identity"),
        ),
        producer_factory=lambda: make_producer(
            bootstrap, client_id="identity-dlq", security=secured.client_security("identity")
        ),
    )
    # a record that is no event: identity dead-letters it to its own DLQ topic
    poison = make_producer(bootstrap, client_id="r", security=secured.client_security("registry"))
    await poison.start()
    try:
        await poison.send_and_wait(topic, b"not an event")
    finally:
        await poison.stop()
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    try:
        await write_changes(UnitOfWork(sf, source="/svc-registry", topic=topic), 1, 20)

        async def all_applied() -> bool:
            return (await applied_counts(engine)) == (20, 20) and consumer.dead_lettered_total > 0

        await eventually(all_applied, within=45, what="20 events applied, the poison dead-lettered")
        assert await relay.pending_count() == 0
    finally:
        await relay.stop()
        await consumer.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.dispose()
