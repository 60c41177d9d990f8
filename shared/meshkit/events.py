"""CloudEvents 1.0 envelope (structured JSON mode) and the typed registry of event types.

Event payloads are pydantic models registered under their versioned type
(``kz.egov.<service>.<entity>.<verb>.v<N>``). Consumers ignore unknown fields; a breaking
change is a new version registered next to the old one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

TYPE_PATTERN = re.compile(r"^kz\.egov\.([a-z_]+)\.([a-z_]+)\.([a-z_]+)\.v(\d+)$")


class EventData(BaseModel):
    """Base of every event payload. Subclasses are registered with :func:`event_type`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: the catalogue's example payload; None: built from the schema (:func:`example_of`)
    example: ClassVar[dict[str, Any] | None] = None

    @classmethod
    def producer(cls) -> str:
        """The producing service, taken from the type (``kz.egov.<producer>...``)."""
        m = TYPE_PATTERN.match(cls.event_type)
        if not m:
            raise ValueError(f"bad event type {cls.event_type!r}")
        return m.group(1)

    @classmethod
    def short_name(cls) -> str:
        """``registry.birth.registered`` for ``kz.egov.registry.birth.registered.v1``."""
        m = TYPE_PATTERN.match(cls.event_type)
        assert m
        return f"{m.group(1)}.{m.group(2)}.{m.group(3)}"


D = TypeVar("D", bound=EventData)


class CloudEvent(BaseModel):
    """The envelope every event travels in."""

    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)
    correlationid: str | None = None
    causationid: str | None = None

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate_json(raw)


class TypedEvent(BaseModel, Generic[D]):
    """An envelope whose data has been parsed into its registered payload model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    envelope: CloudEvent
    data: D

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def subject(self) -> str | None:
        return self.envelope.subject

    @property
    def correlation_id(self) -> str | None:
        return self.envelope.correlationid


class UnknownEventType(LookupError):
    pass


class EventRegistry:
    """Maps versioned type names to payload models."""

    def __init__(self) -> None:
        self._types: dict[str, type[EventData]] = {}

    def register(self, model: type[EventData]) -> type[EventData]:
        if not TYPE_PATTERN.match(model.event_type):
            raise ValueError(
                f"event type {model.event_type!r} must look like kz.egov.svc.entity.verb.v1"
            )
        existing = self._types.get(model.event_type)
        if existing is not None and existing is not model:
            raise ValueError(f"event type {model.event_type} registered twice")
        self._types[model.event_type] = model
        return model

    def model_for(self, type_: str) -> type[EventData]:
        try:
            return self._types[type_]
        except KeyError:
            raise UnknownEventType(type_) from None

    def __contains__(self, type_: str) -> bool:
        return type_ in self._types

    def types(self) -> Iterable[type[EventData]]:
        return [self._types[k] for k in sorted(self._types)]

    def parse(self, envelope: CloudEvent) -> TypedEvent[Any]:
        model = self.model_for(envelope.type)
        return TypedEvent(envelope=envelope, data=model.model_validate(envelope.data))

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        return {t.event_type: t.model_json_schema() for t in self.types()}

    def producers(self) -> list[str]:
        return sorted({t.producer() for t in self._types.values()})

    def asyncapi(
        self,
        *,
        title: str = "egov-mesh events",
        topic_prefix: str = "",
        producers: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """AsyncAPI 3.0 document: one channel per producing service's topic (``egov.<svc>``),
        one message per event type with its payload schema (the envelope's ``data``), its
        Kafka key (the envelope's ``subject``) and an example; ``producers`` narrows it to
        the types of those services (an agency's own document)."""
        wanted = set(producers) if producers is not None else None
        channels: dict[str, Any] = {}
        messages: dict[str, Any] = {}
        schemas: dict[str, Any] = {}
        operations: dict[str, Any] = {}
        for t in self.types():
            if wanted is not None and t.producer() not in wanted:
                continue
            name = t.event_type.replace(".", "_")
            schema = t.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, def_schema in schema.pop("$defs", {}).items():
                schemas[def_name] = def_schema
            schemas[name] = schema
            messages[name] = {
                "name": t.event_type,
                "title": t.short_name(),
                "summary": t.description or _first_line(t.__doc__) or t.short_name(),
                "contentType": "application/cloudevents+json",
                "payload": {"$ref": f"#/components/schemas/{name}"},
                "bindings": {
                    "kafka": {
                        "key": {
                            "type": "string",
                            "description": "the envelope's subject (the aggregate id)",
                        },
                        "bindingVersion": "0.5.0",
                    }
                },
                "examples": [
                    {
                        "name": t.short_name(),
                        "summary": "the envelope's data",
                        "payload": example_of(t),
                    }
                ],
                "x-cloudevents": {"type": t.event_type, "source": f"/svc-{t.producer()}"},
            }
            channel = f"egov_{t.producer()}"
            ch = channels.setdefault(
                channel,
                {
                    "address": f"{topic_prefix}egov.{t.producer()}",
                    "description": f"Events published by svc-{t.producer()}, keyed by subject",
                    "messages": {},
                    "bindings": {"kafka": {"topic": f"{topic_prefix}egov.{t.producer()}"}},
                },
            )
            ch["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        for channel, ch in channels.items():
            operations[f"publish_{channel}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [
                    {"$ref": f"#/channels/{channel}/messages/{m}"} for m in ch["messages"]
                ],
            }
        return {
            "asyncapi": "3.0.0",
            "info": {
                "title": title,
                "version": "1.0.0",
                "description": "CloudEvents 1.0 (structured JSON) envelopes; `data` follows the "
                "payload schema of each message. Extensions: `correlationid` (the application "
                "or request id, the same on every event of one application) and `causationid` "
                "(the id of the event, or the request, that caused it). Money is integer "
                "tiyn with its `currency` (KZT).",
            },
            "defaultContentType": "application/cloudevents+json",
            "channels": channels,
            "operations": operations,
            "components": {"messages": messages, "schemas": schemas},
        }


# -- examples: one per event type, built from its JSON Schema ---------------------------------
_EXAMPLE_TIME = "2026-01-15T09:30:00Z"
_EXAMPLE_IIN = "900115300122"  # meshkit.ids.EXAMPLE_IIN (valid check digit)
_EXAMPLE_BIN = "150340001236"  # meshkit.ids.EXAMPLE_BIN


def example_of(model: type[EventData]) -> dict[str, Any]:
    """A payload that validates against ``model`` (its ``example`` class attribute if it has
    one, else built from its schema: declared examples, then the first choice, then a value
    fit for the field's type and name)."""
    given: dict[str, Any] | None = getattr(model, "example", None)
    if given is not None:
        return dict(given)
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    value = _example(schema, defs, "")
    # the payload model is the authority (check digits, model validators): fail loudly here
    # rather than publish an example a consumer would reject
    return model.model_validate(value).model_dump(mode="json")


def _example(schema: dict[str, Any], defs: dict[str, Any], field: str) -> Any:
    if "$ref" in schema:
        return _example(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, field)
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _example(options[0], defs, field) if options else None
    kind = schema.get("type")
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        if not props:
            return {}
        return {name: _example(sub, defs, name) for name, sub in props.items()}
    if kind == "array":
        return [_example(schema.get("items", {}), defs, field)]
    if kind == "integer":
        return 1_534_000 if field.endswith("_tiyn") else max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "string":
        return _example_string(schema, field)
    return None


def _example_string(schema: dict[str, Any], field: str) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return _EXAMPLE_TIME
    if fmt == "date":
        return _EXAMPLE_TIME[:10]
    if fmt == "uuid":
        return "7f0c2a52-6a4f-4b8e-9d61-0f1d2e3c4b5a"
    if field == "bin" or field.endswith("_bin"):
        return _EXAMPLE_BIN
    if field.endswith("iin") or field in ("holder", "payer", "applicant", "subject_id", "parties"):
        return _EXAMPLE_IIN
    if field == "currency":
        return "KZT"
    return f"{field or 'value'}-1"


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


#: the one registry of the mesh; schema modules register into it on import
registry = EventRegistry()


def event_type(type_: str, *, description: str = "") -> Any:
    """Class decorator: ``@event_type("kz.egov.registry.birth.registered.v1")``."""

    def wrap(cls: type[D]) -> type[D]:
        cls.event_type = type_
        cls.description = description
        registry.register(cls)
        return cls

    return wrap


def build_envelope(
    data: EventData,
    *,
    source: str,
    subject: str | None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
) -> CloudEvent:
    return CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=data.event_type,
        subject=subject,
        data=data.model_dump(mode="json"),
        correlationid=correlation_id,
        causationid=causation_id,
    )


def try_parse_envelope(raw: bytes) -> tuple[CloudEvent | None, str | None]:
    """Parse bytes into an envelope; returns the reason instead of raising."""
    try:
        return CloudEvent.from_json_bytes(raw), None
    except (ValidationError, ValueError) as exc:
        return None, f"not a CloudEvent: {exc}"[:2000]
