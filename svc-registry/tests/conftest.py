"""Fixtures of the registry tests: the app on SQLite and on PostgreSQL, wired to a contract
double of svc-identity through an in-process routed exchange, and a test national CA."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from egov_registry.app import create_app
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.ca import TestCA
from meshkit_testing.registry import Registry, default_identity, registry_settings, wire


@pytest.fixture
async def registry(tmp_path: Path, database_url: str | None) -> AsyncIterator[Registry]:
    fake = FakeGateway(tmp_path)
    identity = default_identity()
    ca = TestCA()
    app = create_app(registry_settings(tmp_path, database_url, gateway_jwks_url=fake.jwks_url))
    revocation = wire(app, fake, identity, ca)
    async with running(app) as client:
        yield Registry(
            app, client, fake, identity, ca, revocation, "postgres" if database_url else "sqlite"
        )
