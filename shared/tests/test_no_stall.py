"""Issue 16: no single request stalls a service, nothing a caller sends is a 500.

* An unexpected error is a problem+json 500 produced in milliseconds: its traceback is logged
  without the locals of ~50 frames (structlog's default rendered them with rich: 4–9 s on the
  event loop, while every other request of the service waited).
* A JSON body nested deeper than 32 levels is refused before anything parses it.
* Integers are bounded by one set of meshkit types, published in the OpenAPI document.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Body, Request
from pydantic import BaseModel
from sqlalchemy import text

from meshkit.bounds import MAX_OFFSET, MAX_ROW_ID, MAX_TIYN, Offset, RowId
from meshkit.contracts.common import Money, Tiyn
from meshkit.limits import MAX_JSON_DEPTH, json_too_deep
from meshkit.observability.logging import configure_logging
from meshkit.service import runtime_of
from meshkit_testing.live import LiveApp
from meshkit_testing.services import build_app

LOCAL_SECRET = "a-local-value-that-no-log-may-carry"


class Entry(BaseModel):
    amount_tiyn: Tiyn
    ids: list[RowId] = []


class Reached:
    """The bad request's handler says it is running (the test waits on this, not a sleep)."""

    def __init__(self) -> None:
        self.event = threading.Event()


def selftest_router(reached: Reached) -> APIRouter:
    router = APIRouter()

    @router.get("/selftest/overflow")
    async def overflow(request: Request) -> dict[str, Any]:
        secret = LOCAL_SECRET  # a local of the failing frame
        big = {str(i): list(range(50)) for i in range(2_000)}  # and a large one
        reached.event.set()
        async with runtime_of(request).engine.connect() as conn:
            # the driver cannot bind it: OverflowError, as an unbounded offset did
            await conn.execute(text("SELECT :n"), {"n": 10**20 + len(big) + len(secret)})
        return {}

    @router.get("/selftest/page")
    async def page(offset: Offset = 0) -> dict[str, int]:
        return {"offset": offset}

    @router.post("/selftest/entries")
    async def entries(entry: Entry) -> dict[str, int]:
        return {"amount_tiyn": entry.amount_tiyn}

    @router.post("/selftest/anything")
    async def anything(doc: Annotated[Any, Body()]) -> dict[str, str]:
        return {"type": type(doc).__name__}

    @router.post("/selftest/money")
    async def money(m: Money) -> Money:
        return m

    return router


@pytest.fixture(scope="module")
def app_and_reached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, Reached]]:
    reached = Reached()
    # the console renderer, as ``make run`` logs (build_app: log_json=False)
    app = build_app("licensing", tmp_path_factory.mktemp("stall"), kafka_enabled=False)
    app.include_router(selftest_router(reached))
    with LiveApp(app, name="stall") as live:
        yield live, reached


@contextlib.contextmanager
def logs_to(buffer: io.StringIO, *, json: bool) -> Iterator[None]:
    """Logs rendered into ``buffer`` for the block (then to the session's stderr again: a
    logger left writing to a closed capture would break every later test's logging)."""
    with contextlib.redirect_stderr(buffer):
        configure_logging("licensing", json=json)
    try:
        yield
    finally:
        configure_logging("licensing", json=False)


def test_a_500_does_not_stall_the_event_loop(app_and_reached: tuple[LiveApp, Reached]) -> None:
    live, reached = app_and_reached
    reached.event.clear()
    buffer = io.StringIO()
    with logs_to(buffer, json=False):  # the console renderer, as ``make run`` logs
        bad_s, waits, answer = _bad_request_among_others(live, reached)
    assert max(waits) < 1.0, f"another client waited {max(waits):.2f} s behind a 500"
    assert answer.status_code == 500
    assert bad_s < 1.0, f"the 500 took {bad_s:.2f} s"
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/internal-error") and problem["instance"]
    assert "Traceback" not in answer.text and "Overflow" not in answer.text
    logged = buffer.getvalue()
    assert "http.unhandled_error" in logged and "OverflowError" in logged
    assert LOCAL_SECRET not in logged, "a traceback carried the values of locals"


def _bad_request_among_others(
    live: LiveApp, reached: Reached
) -> tuple[float, list[float], httpx.Response]:
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        bad = pool.submit(live.request, "GET", "/selftest/overflow")
        assert reached.event.wait(30), "the failing handler never ran"
        # while the bad request is handled (its error raised, answered and logged), another
        # client keeps asking: none of its requests may wait behind the 500
        waits: list[float] = []
        while not bad.done() or not waits:
            t0 = time.monotonic()
            other = live.request("GET", "/health/live")
            waits.append(time.monotonic() - t0)
            assert other.status_code == 200
        answer = bad.result(timeout=60)
        bad_s = time.monotonic() - started
    return bad_s, waits, answer


def test_json_logs_carry_no_locals_either() -> None:
    import structlog

    buffer = io.StringIO()
    with logs_to(buffer, json=True):
        try:
            secret = LOCAL_SECRET
            raise ValueError(f"boom {len(secret)}")
        except ValueError as exc:
            t0 = time.monotonic()
            structlog.get_logger("t").error("http.unhandled_error", exc_info=exc)
            rendered_s = time.monotonic() - t0
    line = buffer.getvalue().strip().splitlines()[-1]
    record = json.loads(line)
    assert record["exception"][0]["exc_type"] == "ValueError"
    assert LOCAL_SECRET not in line and rendered_s < 1.0


def test_bounded_integers_are_422_with_the_field(
    app_and_reached: tuple[LiveApp, Reached],
) -> None:
    live, _ = app_and_reached
    for offset in ("99999999999999999999", str(2**63), str(MAX_OFFSET + 1), "-1"):
        r = live.request("GET", "/selftest/page", params={"offset": offset})
        assert r.status_code == 422 and "query.offset" in r.json()["errors"], (offset, r.text)
    assert live.request("GET", f"/selftest/page?offset={MAX_OFFSET}").json() == {
        "offset": MAX_OFFSET
    }
    for amount in (2**63, 10**20, -(2**63), MAX_TIYN + 1, -1):
        r = live.request("POST", "/selftest/entries", json={"amount_tiyn": amount})
        assert r.status_code == 422 and "amount_tiyn" in r.json()["errors"], (amount, r.text)
        r = live.request("POST", "/selftest/money", json={"amount_tiyn": amount})
        assert r.status_code == 422 and "amount_tiyn" in r.json()["errors"], (amount, r.text)
    r = live.request("POST", "/selftest/entries", json={"amount_tiyn": 1, "ids": [2**63]})
    assert r.status_code == 422 and "ids.0" in r.json()["errors"], r.text
    r = live.request("POST", "/selftest/entries", json={"amount_tiyn": MAX_TIYN})
    assert r.status_code == 200


def test_bounds_are_published_in_the_openapi_document(
    app_and_reached: tuple[LiveApp, Reached],
) -> None:
    live, _ = app_and_reached
    spec = live.app.openapi()
    [offset] = spec["paths"]["/selftest/page"]["get"]["parameters"]
    assert offset["schema"]["maximum"] == MAX_OFFSET and offset["schema"]["minimum"] == 0
    entry = spec["components"]["schemas"]["Entry"]["properties"]
    assert entry["amount_tiyn"]["maximum"] == MAX_TIYN
    assert entry["ids"]["items"]["maximum"] == MAX_ROW_ID


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 50_000])
def test_deep_json_is_refused_before_parsing(
    app_and_reached: tuple[LiveApp, Reached], depth: int
) -> None:
    live, _ = app_and_reached
    for body in (
        b"[" * depth + b"]" * depth,
        b'{"a":' * depth + b"1" + b"}" * depth,
        b"[" * depth,  # never closed
    ):
        r = live.request(
            "POST", "/selftest/anything", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == {
            "body": f"nests arrays/objects deeper than {MAX_JSON_DEPTH} levels"
        }
    ok = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    r = live.request(
        "POST", "/selftest/anything", content=ok, headers={"content-type": "application/json"}
    )
    assert r.status_code == 200 and r.json() == {"type": "list"}


def test_the_depth_scan_reads_strings_as_strings() -> None:
    deep = MAX_JSON_DEPTH + 1
    assert not json_too_deep(json.dumps({"s": "[" * 100 + "{" * 100}).encode())
    assert not json_too_deep(json.dumps({"s": '\\"[' * 100, "t": "\\" * 7}).encode())
    # brackets hidden in strings do not hide the real nesting
    hidden = b"[" * deep + b'"' + b"]" * deep + b'"' + b"]" * deep
    assert json_too_deep(hidden)
    nested: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        nested = [nested, "]]]}}}", "\\"]
    assert not json_too_deep(json.dumps(nested).encode())
    assert json_too_deep(json.dumps([nested]).encode())
    # a megabyte of nesting is decided in well under a second
    t0 = time.monotonic()
    assert json_too_deep(b"[" * 500_000 + b"]" * 500_000)
    assert json_too_deep(b"[[]" * 300_000 + b"]" * 300_000)
    assert not json_too_deep(b"[]" * 500_000)
    assert time.monotonic() - t0 < 1.0
