"""Fixtures of the svc-licensing tests: every flow runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests import the harness by module name (pytest runs with --import-mode=importlib)
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=[pytest.mark.integration, pytest.mark.postgres]),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: the embedded SQLite file in the data dir; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url
