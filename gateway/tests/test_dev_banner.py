"""The portal's development banner: in dev mode the gateway shows the code of one login in
progress (by its challenge, from identity's outbox) on its own port; outside dev mode the
endpoint does not exist."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI, HTTPException

from egov_gateway.app import definition
from egov_gateway.settings import GatewaySettings
from meshkit_testing.devinfra import free_port
from meshkit_testing.gateway_offers import start_single_window
from meshkit_testing.polling import eventually

A, B = "0b4f5c0e-6a52-4d0e-9d1c-3f1f8f4a6b21", "7d7e1c52-1f0b-4c44-8c51-2a9f0e3b6d10"
CODES = {A: ("123456", "+7701*****67"), B: ("654321", "+7705*****69")}


async def fake_identity() -> AsyncIterator[str]:
    """identity's dev endpoint as a real HTTP server: one code per challenge."""
    app = FastAPI()

    @app.get("/dev/sms/challenges/{challenge_id}")
    async def code(challenge_id: str) -> dict[str, str]:
        if challenge_id not in CODES:
            raise HTTPException(404)
        found, phone = CODES[challenge_id]
        return {
            "challenge_id": challenge_id,
            "sent_to": phone,
            "purpose": "login",
            "code": found,
            "created_at": "2026-12-05T10:00:00Z",
        }

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, within=10, what="the fake identity to listen")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_dev_banner_shows_the_code_of_that_login_only(tmp_path: Path, db_url: str) -> None:
    async for identity_url in fake_identity():
        async for sw in start_single_window(tmp_path, db_url, identity_url=identity_url):
            r = await sw.client.get(f"/api/v1/dev/codes/{A}")
            assert r.status_code == 200, r.text
            assert r.json() == {
                "code": "123456",
                "sent_to": "+7701*****67",
                "purpose": "login",
                "dev_only": True,
            }
            assert "654321" not in r.text  # another person's code is never shown
            unknown = "5f0c6f3e-2b1d-4e6a-8f7e-1c2d3e4f5a6b"
            assert (await sw.client.get(f"/api/v1/dev/codes/{unknown}")).status_code == 404
            # not a challenge id at all: refused at the door, no URL is built from it
            bad = await sw.client.get("/api/v1/dev/codes/%C3%A5%15..admin")
            assert bad.status_code == 422, bad.text
            assert "challenge_id" in bad.text
            assert (await sw.client.get("/api/v1/dev/codes/")).status_code == 404


def _paths(settings: GatewaySettings) -> set[str]:
    return {
        getattr(r, "path", "") for router in definition(settings).routers for r in router.routes
    }


def test_no_dev_endpoint_outside_dev_mode(tmp_path: Path) -> None:
    paths = _paths(GatewaySettings(data_dir=tmp_path, dev_mode=False, kafka_enabled=False))
    assert "/api/v1/centre/applications" in paths
    assert not any(p.startswith("/api/v1/dev") for p in paths)
    dev = _paths(GatewaySettings(data_dir=tmp_path, dev_mode=True, kafka_enabled=False))
    assert "/api/v1/dev/codes/{challenge_id}" in dev
