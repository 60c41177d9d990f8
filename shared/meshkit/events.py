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

    def asyncapi(
        self, *, title: str = "egov-mesh events", topic_prefix: str = ""
    ) -> dict[str, Any]:
        """AsyncAPI 3.0 document: one channel per producing service's topic."""
        channels: dict[str, Any] = {}
        messages: dict[str, Any] = {}
        schemas: dict[str, Any] = {}
        operations: dict[str, Any] = {}
        for t in self.types():
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
            }
            channel = f"egov_{t.producer()}"
            ch = channels.setdefault(
                channel,
                {
                    "address": f"{topic_prefix}egov.{t.producer()}",
                    "description": f"Events published by svc-{t.producer()}, keyed by subject",
                    "messages": {},
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
                "payload schema of each message.",
            },
            "channels": channels,
            "operations": operations,
            "components": {"messages": messages, "schemas": schemas},
        }


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
