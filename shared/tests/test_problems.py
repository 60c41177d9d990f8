from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError

from meshkit.db import is_infrastructure_error
from meshkit.errors import Conflict, NotFound, RuleViolation, TooManyRequests
from meshkit.ids import IIN
from meshkit.observability.middleware import RequestContextMiddleware
from meshkit.problems import PROBLEM_JSON, ProblemError, install_problem_handlers


class PersonIn(BaseModel):
    iin: IIN
    name: str = Field(min_length=1, max_length=100)
    age: int = Field(ge=0, le=150)


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="test")

    @app.post("/persons")
    async def create(p: PersonIn) -> dict[str, str]:
        return {"iin": p.iin}

    @app.get("/items/{item_id}")
    async def item(item_id: int, limit: Annotated[int, Query(le=100)] = 10) -> dict[str, int]:
        if item_id == 404:
            raise NotFound("item 404 does not exist")
        if item_id == 409:
            raise Conflict("already there")
        if item_id == 422:
            raise RuleViolation("shares must add to 100%", errors={"founders": "sum is 90%"})
        if item_id == 429:
            raise TooManyRequests("slow down", retry_after_s=7)
        if item_id == 418:
            raise ProblemError(418, "short and stout", code="teapot")
        if item_id == 500:
            raise RuntimeError("secret internal detail: postgres://admin:pw@db-7")
        if item_id == 503:
            raise _database_starting_up()
        return {"id": item_id, "limit": limit}

    return app


class CannotConnectNowError(Exception):
    """Stands for asyncpg's error of the same name (matched by name, as the driver's)."""


def _database_starting_up() -> DBAPIError:
    """What SQLAlchemy raises while PostgreSQL recovers from a crash: a plain DBAPIError
    (connection not invalidated) around the adapter's error around asyncpg's."""
    adapter_error = Exception("the database system is starting up")
    adapter_error.__cause__ = CannotConnectNowError("the database system is starting up")
    return DBAPIError("SELECT 1", None, adapter_error)


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_validation_error_lists_fields(client: httpx.AsyncClient) -> None:
    r = await client.post("/persons", json={"iin": "123", "name": "", "age": -1})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["status"] == 422
    assert body["type"].endswith("/validation-error")
    assert set(body["errors"]) == {"iin", "name", "age"}
    assert "12 digits" in body["errors"]["iin"]
    assert body["instance"] == r.headers["x-request-id"]


async def test_invalid_iin_check_digit_says_why(client: httpx.AsyncClient) -> None:
    r = await client.post("/persons", json={"iin": "900115300123", "name": "Әли", "age": 35})
    assert r.status_code == 422
    assert "check digit" in r.json()["errors"]["iin"]


async def test_malformed_json_and_wrong_types_are_422(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/persons", content=b'{"iin": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON
    r = await client.get("/items/abc")
    assert r.status_code == 422 and "path.item_id" in r.json()["errors"]
    r = await client.get("/items/1", params={"limit": 1000})
    assert r.status_code == 422 and "query.limit" in r.json()["errors"]


@pytest.mark.parametrize(
    ("item", "status", "code"),
    [
        (404, 404, "not-found"),
        (409, 409, "conflict"),
        (422, 422, "rule-violation"),
        (418, 418, "teapot"),
    ],
)
async def test_domain_errors_map_to_status(
    client: httpx.AsyncClient, item: int, status: int, code: str
) -> None:
    r = await client.get(f"/items/{item}")
    assert r.status_code == status
    assert r.json()["type"].endswith("/" + code)
    assert r.headers["content-type"] == PROBLEM_JSON


async def test_rule_violation_carries_field_errors(client: httpx.AsyncClient) -> None:
    r = await client.get("/items/422")
    assert r.json()["errors"] == {"founders": "sum is 90%"}


async def test_rate_limit_has_retry_after(client: httpx.AsyncClient) -> None:
    r = await client.get("/items/429")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"


async def test_unexpected_error_leaks_nothing(client: httpx.AsyncClient) -> None:
    r = await client.get("/items/500", headers={"X-Request-Id": "req-abcdef123"})
    assert r.status_code == 500
    body = r.json()
    assert body["instance"] == "req-abcdef123"
    text = r.text
    assert "postgres" not in text and "Traceback" not in text and "RuntimeError" not in text


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    r = await client.get("/nothing")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM_JSON
    r = await client.delete("/persons")
    assert r.status_code == 405 and r.json()["status"] == 405


async def test_a_database_that_is_down_or_restarting_is_a_503_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/items/503")
    assert r.status_code == 503
    assert r.headers["content-type"] == PROBLEM_JSON
    assert r.headers["retry-after"] == "5"
    assert r.json()["type"].endswith("/service-unavailable")
    assert "starting up" not in r.text  # nothing of the driver's message leaks


def test_infrastructure_errors_are_told_from_bugs() -> None:
    assert is_infrastructure_error(_database_starting_up())
    assert is_infrastructure_error(ConnectionRefusedError(111, "Connection refused"))
    assert not is_infrastructure_error(DBAPIError("SELECT 1", None, ValueError("bad data")))
    assert not is_infrastructure_error(RuntimeError("a bug"))
