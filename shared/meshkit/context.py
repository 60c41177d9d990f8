"""Per-request context (request id, W3C trace context) carried in contextvars.

Set by the HTTP middleware and by the event consumer; read by loggers, the gateway client
and units of work so ids propagate without being threaded through every call.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_request_id: ContextVar[str | None] = ContextVar("mesh_request_id", default=None)
_trace: ContextVar[TraceContext | None] = ContextVar("mesh_trace", default=None)
#: the envelope extensions of the events written while handling this request or event
#: (DESIGN §5): the application (or request) every event of one process carries, and the
#: event or request that caused them
_correlation: ContextVar[str | None] = ContextVar("mesh_correlation_id", default=None)
_causation: ContextVar[str | None] = ContextVar("mesh_causation_id", default=None)

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    parent_id: str  # the span id of this hop
    flags: str = "01"

    @classmethod
    def parse(cls, header: str | None) -> TraceContext | None:
        if not header:
            return None
        m = _TRACEPARENT.match(header.strip().lower())
        if not m or m.group(1) == "0" * 32 or m.group(2) == "0" * 16:
            return None
        return cls(trace_id=m.group(1), parent_id=m.group(2), flags=m.group(3))

    @classmethod
    def new(cls) -> TraceContext:
        return cls(trace_id=secrets.token_hex(16), parent_id=secrets.token_hex(8))

    def child(self) -> TraceContext:
        """The context for an outgoing call: same trace, a new span id."""
        return TraceContext(self.trace_id, secrets.token_hex(8), self.flags)

    @property
    def header(self) -> str:
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags}"


def accept_request_id(incoming: str | None) -> str:
    """Keep a caller's request id when it is sane, otherwise mint one."""
    if incoming and _REQUEST_ID_OK.match(incoming):
        return incoming
    return str(uuid.uuid4())


def current_request_id() -> str | None:
    return _request_id.get()


def current_correlation_id() -> str | None:
    """The correlation id of this request or event; None: the request id is it."""
    return _correlation.get()


def current_causation_id() -> str | None:
    """The id of the event being handled; None: the request id caused what happens."""
    return _causation.get()


def bind_causes(correlation_id: str | None, causation_id: str | None) -> tuple[object, object]:
    return _correlation.set(correlation_id), _causation.set(causation_id)


def unbind_causes(tokens: tuple[object, object]) -> None:
    corr_token, cause_token = tokens
    _correlation.reset(corr_token)  # type: ignore[arg-type]
    _causation.reset(cause_token)  # type: ignore[arg-type]


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[None]:
    """Work for a stored process outside its request (a retry, a sweep): what runs inside —
    units of work, calls through the gateway — carries its correlation id; the cause stays the
    one at hand."""
    tokens = bind_causes(correlation_id or current_correlation_id(), current_causation_id())
    try:
        yield
    finally:
        unbind_causes(tokens)


def current_trace() -> TraceContext | None:
    return _trace.get()


def bind(request_id: str | None, trace: TraceContext | None) -> tuple[object, object]:
    return _request_id.set(request_id), _trace.set(trace)


def unbind(tokens: tuple[object, object]) -> None:
    rid_token, trace_token = tokens
    _request_id.reset(rid_token)  # type: ignore[arg-type]
    _trace.reset(trace_token)  # type: ignore[arg-type]
