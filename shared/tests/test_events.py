import json

import pytest
from pydantic import ValidationError

from meshkit.events import (
    CloudEvent,
    EventData,
    EventRegistry,
    build_envelope,
    registry,
    try_parse_envelope,
)


class ThingHappened(EventData):
    """A thing happened."""

    thing_id: str
    amount_tiyn: int


ThingHappened.event_type = "kz.egov.demo.thing.happened.v1"


def test_envelope_is_cloudevents_structured_json() -> None:
    env = build_envelope(
        ThingHappened(thing_id="t-1", amount_tiyn=150_00),
        source="/svc-demo",
        subject="t-1",
        correlation_id="req-1",
        causation_id="req-1",
    )
    doc = json.loads(env.to_json_bytes())
    assert doc["specversion"] == "1.0"
    assert doc["type"] == "kz.egov.demo.thing.happened.v1"
    assert doc["source"] == "/svc-demo"
    assert doc["subject"] == "t-1"
    assert doc["datacontenttype"] == "application/json"
    assert doc["data"] == {"thing_id": "t-1", "amount_tiyn": 15000}
    assert doc["correlationid"] == "req-1" and doc["causationid"] == "req-1"
    assert len(doc["id"]) == 36
    assert CloudEvent.from_json_bytes(env.to_json_bytes()) == env


def test_registry_parses_and_ignores_unknown_fields() -> None:
    reg = EventRegistry()
    reg.register(ThingHappened)
    env = CloudEvent(
        source="/svc-demo",
        type=ThingHappened.event_type,
        data={"thing_id": "x", "amount_tiyn": 1, "added_later": True},
    )
    typed = reg.parse(env)
    assert isinstance(typed.data, ThingHappened)
    assert typed.data.amount_tiyn == 1
    with pytest.raises(ValidationError):
        reg.parse(CloudEvent(source="/s", type=ThingHappened.event_type, data={"thing_id": "x"}))


def test_registry_rejects_bad_names_and_conflicts() -> None:
    reg = EventRegistry()

    class Bad(EventData):
        pass

    Bad.event_type = "registry.birth.registered"
    with pytest.raises(ValueError, match="must look like"):
        reg.register(Bad)
    reg.register(ThingHappened)

    class Other(EventData):
        pass

    Other.event_type = ThingHappened.event_type
    with pytest.raises(ValueError, match="twice"):
        reg.register(Other)


def test_short_name_and_producer() -> None:
    assert ThingHappened.short_name() == "demo.thing.happened"
    assert ThingHappened.producer() == "demo"


def test_bad_bytes_are_reported_not_raised() -> None:
    env, err = try_parse_envelope(b"not json")
    assert env is None and err and "not a CloudEvent" in err
    env, err = try_parse_envelope(b'{"specversion":"1.0"}')
    assert env is None and err


def test_asyncapi_lists_every_registered_type() -> None:
    import meshkit.echo  # noqa: F401  registers the echo events

    doc = registry.asyncapi()
    assert doc["asyncapi"].startswith("3.")
    assert "egov_gateway" in doc["channels"]
    assert doc["channels"]["egov_gateway"]["address"] == "egov.gateway"
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert "kz.egov.identity.mesh_echo.sent.v1" in names
    schemas = registry.json_schemas()
    assert schemas["kz.egov.registry.mesh_echo.sent.v1"]["required"] == [
        "echo_id",
        "message",
        "from_service",
    ]
