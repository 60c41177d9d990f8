"""Fixtures of the gateway tests: the routed exchange on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from egov_gateway.singlewindow.offers.testkit import SingleWindowHarness, start_single_window
from egov_gateway.testkit import Mesh, start_mesh


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=[pytest.mark.integration, pytest.mark.postgres]),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
async def mesh(tmp_path: Path, db_url: str) -> AsyncIterator[Mesh]:
    async for m in start_mesh(tmp_path, db_url):
        yield m


# -- the single window's offers, notifications and figures (helper B) ---------------------------
@pytest.fixture
async def single_window(tmp_path: Path, db_url: str) -> AsyncIterator[SingleWindowHarness]:
    """A gateway (no Kafka) with the seeded register and a test token issuer; events are
    handed to its handlers through :meth:`SingleWindow.deliver`."""
    async for sw in start_single_window(tmp_path, db_url):
        yield sw
