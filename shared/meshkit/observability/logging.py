"""structlog JSON logs carrying the request id and trace id of the current context.

Tracebacks are rendered without the values of local variables, in both renderers. structlog's
defaults (``dict_tracebacks``, and rich's console traceback) show every frame's locals: for a
500 deep in FastAPI and SQLAlchemy that meant reprs of the app, the session and the request in
~50 frames — 0.2 s of JSON and 4–9 s of console rendering, synchronously on the event loop, so
every other request of the service waited (issue 16). Locals can also hold tokens and
personal data that have no place in a log. Without them a traceback renders in milliseconds.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
import structlog.tracebacks

from meshkit import context

#: frames without locals, at most 30 of them (the outermost and innermost are kept)
_DICT_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False, max_frames=30)
)


def _add_context(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    rid = context.current_request_id()
    if rid and "request_id" not in event_dict:
        event_dict["request_id"] = rid
    trace = context.current_trace()
    if trace and "trace_id" not in event_dict:
        event_dict["trace_id"] = trace.trace_id
    return event_dict


def configure_logging(service: str, *, level: str = "INFO", json: bool = True) -> None:
    lvl = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_context,
        _DICT_TRACEBACKS if json else structlog.dev.set_exc_info,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=max(lvl, logging.WARNING), stream=sys.stderr, format="%(message)s")
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.ERROR if noisy == "aiokafka" else logging.WARNING)
