"""correlationid and causationid of what a unit of work writes (DESIGN §5): the application a
caller names (X-Correlation-Id) or the request id; the event being handled or the request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient

from meshkit import context
from meshkit.contracts.diagnostics import ECHO_EVENTS, EchoSent
from meshkit.db import create_engine, session_factory
from meshkit.messaging.uow import UnitOfWork
from meshkit.observability.middleware import RequestContextMiddleware

RegistryEchoSent = ECHO_EVENTS["registry"]


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")
    yield UnitOfWork(session_factory(engine), source="/svc-registry", topic="egov.registry")
    await engine.dispose()


def echo() -> EchoSent:
    return RegistryEchoSent(echo_id="e-1", message="сәлем", from_service="registry")


async def test_a_plain_request_is_its_own_correlation_and_cause(uow: UnitOfWork) -> None:
    tokens = context.bind("req-00000001", None)
    try:
        async with uow:
            env = uow.emit(echo(), subject="e-1")
    finally:
        context.unbind(tokens)
    assert env.correlationid == "req-00000001" and env.causationid == "req-00000001"


async def test_a_step_of_an_application_is_correlated_with_the_application(
    uow: UnitOfWork,
) -> None:
    tokens = context.bind("app-1.2.1", None)
    causes = context.bind_causes("app-1", None)
    try:
        async with uow:
            env = uow.emit(echo(), subject="e-1")
    finally:
        context.unbind_causes(causes)
        context.unbind(tokens)
    assert env.correlationid == "app-1"  # the bare application id, not the request's
    assert env.causationid == "app-1.2.1"  # the step's request caused it


async def test_a_handler_opening_its_own_unit_of_work_names_the_event(uow: UnitOfWork) -> None:
    # what the consumer binds around a handler (meshkit.messaging.consumer)
    tokens = context.bind("app-1", None)
    causes = context.bind_causes("app-1", "evt-42")
    try:
        async with uow:
            env = uow.emit(echo(), subject="e-1")
    finally:
        context.unbind_causes(causes)
        context.unbind(tokens)
    assert env.correlationid == "app-1" and env.causationid == "evt-42"


async def test_the_middleware_takes_the_callers_correlation_id() -> None:
    app = FastAPI()

    @app.get("/ids")
    async def ids(request: Request) -> dict[str, str | None]:
        return {
            "request": context.current_request_id(),
            "correlation": context.current_correlation_id(),
        }

    wrapped = RequestContextMiddleware(app, service="test")
    async with AsyncClient(transport=ASGITransport(app=wrapped), base_url="http://t") as c:
        named = await c.get(
            "/ids", headers={"X-Request-Id": "app-7.1.1", "X-Correlation-Id": "app-7-00001"}
        )
        plain = await c.get("/ids", headers={"X-Request-Id": "req-00000002"})
        junk = await c.get("/ids", headers={"X-Correlation-Id": "bad id!"})
    assert named.json() == {"request": "app-7.1.1", "correlation": "app-7-00001"}
    assert plain.json() == {"request": "req-00000002", "correlation": None}
    # an unusable value is dropped (the request id stands in), never copied into events
    assert junk.json()["correlation"] is None
    assert context.current_correlation_id() is None  # unbound after the request


async def test_work_for_a_stored_process_carries_its_correlation(uow: UnitOfWork) -> None:
    # e.g. a retry loop asking for an application's invoice again, in no request
    with context.correlated("app-9"):
        assert context.current_correlation_id() == "app-9"
        async with uow:
            env = uow.emit(echo(), subject="e-1")
    assert env.correlationid == "app-9"
    assert context.current_correlation_id() is None  # unbound afterwards
    # handling an event: the stored process replaces the event's, the event stays the cause
    causes = context.bind_causes("app-1", "evt-42")
    try:
        with context.correlated("app-9"):
            assert context.current_causation_id() == "evt-42"
            assert context.current_correlation_id() == "app-9"
        with context.correlated(None):  # nothing stored: the one at hand
            assert context.current_correlation_id() == "app-1"
    finally:
        context.unbind_causes(causes)
