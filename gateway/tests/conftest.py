"""Fixtures of the gateway tests: the routed exchange on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from meshkit_testing.gateway import Mesh, start_mesh
from meshkit_testing.gateway_offers import SingleWindowHarness, start_single_window


@pytest.fixture
def db_url(database_url: str | None, tmp_path: Path) -> str:
    return database_url or f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"


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
