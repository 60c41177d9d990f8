"""structlog JSON logs carrying the request id and trace id of the current context."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from meshkit import context


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
        structlog.processors.dict_tracebacks if json else structlog.dev.set_exc_info,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
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
