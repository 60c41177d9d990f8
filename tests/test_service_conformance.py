"""Every service — gateway and five agencies — passes the same conformance checks, on its
embedded SQLite default and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshkit_testing.apps import FakeGateway, assert_service_conformance, running
from meshkit_testing.services import SERVICES, build_app


@pytest.mark.parametrize("service", SERVICES)
async def test_service_on_sqlite(service: str, tmp_path: Path) -> None:
    gw = FakeGateway(tmp_path)
    app = build_app(service, tmp_path, kafka_enabled=False, gateway_jwks_url=gw.jwks_url)
    async with running(app) as client:
        await assert_service_conformance(client, service, None if service == "gateway" else gw)
    assert (tmp_path / f"{service}.db").exists()


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.parametrize("service", SERVICES)
async def test_service_on_postgres(service: str, tmp_path: Path, pg_url: str) -> None:
    gw = FakeGateway(tmp_path)
    app = build_app(
        service, tmp_path, kafka_enabled=False, gateway_jwks_url=gw.jwks_url, database_url=pg_url
    )
    async with running(app) as client:
        await assert_service_conformance(client, service, None if service == "gateway" else gw)
    assert not (tmp_path / f"{service}.db").exists()


async def test_gateway_publishes_its_assertion_keys(tmp_path: Path) -> None:
    app = build_app("gateway", tmp_path, kafka_enabled=False)
    async with running(app) as client:
        r = await client.get("/.well-known/jwks.json")
        assert r.status_code == 200
        keys = r.json()["keys"]
        assert keys and keys[0]["alg"] in {"EdDSA", "ES256"} and "d" not in keys[0]
