"""A gateway killed with SIGKILL under load loses no audit record of a call it answered.

The gateway and a real agency (svc-registry) run as separate uvicorn processes on free ports;
concurrent clients call through the gateway and note every request id that got a complete
answer; the gateway is SIGKILLed mid-load, restarted on the same database, and every noted
request id must have its audit record, with the chain intact.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from egov_gateway.adapters.audit_tables import audit_log
from egov_gateway.testkit import BINS, ISSUER, TestIdentity
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.db import create_engine
from meshkit.devinfra import free_port
from meshkit.testing.polling import eventually

pytestmark = pytest.mark.slow


def _spawn(module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", module],
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def _wait_live(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as c:

        async def live() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"{url} exited: {log.read_text()[-2000:]}")  # noqa: ASYNC240
            try:
                return (await c.get(f"{url}/health/live")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(live, within=60, what=f"{url} to start", interval=0.1)


async def test_sigkill_under_load_loses_no_answered_audit_record(
    tmp_path: Path, db_url: str
) -> None:
    identity = TestIdentity(tmp_path)
    gw_key = SigningKey.generate()
    (tmp_path / "gw-jwks.json").write_text(json.dumps(KeyRing(gw_key).jwks()))
    agency_port, gw_port = free_port(), free_port()
    (tmp_path / "register.json").write_text(
        json.dumps(
            {
                "members": [
                    {
                        "agency": "registry",
                        "member_code": BINS["registry"],
                        "base_url": f"http://127.0.0.1:{agency_port}",
                        "operations": [{"method": "GET", "path": "/mesh/whoami"}],
                    }
                ],
                "grants": [["licensing", "registry:GET /mesh/whoami"]],
            }
        )
    )
    agency_env = {
        "REGISTRY_PORT": str(agency_port),
        "REGISTRY_DATA_DIR": str(tmp_path / "registry"),
        "REGISTRY_KAFKA_ENABLED": "false",
        "REGISTRY_GATEWAY_JWKS_URL": f"file://{tmp_path / 'gw-jwks.json'}",
        "REGISTRY_LOG_LEVEL": "WARNING",
    }
    gw_env = {
        "GATEWAY_PORT": str(gw_port),
        "GATEWAY_DATA_DIR": str(tmp_path / "gw"),
        "GATEWAY_DATABASE_URL": db_url,
        "GATEWAY_KAFKA_ENABLED": "false",
        "GATEWAY_SIGNING_KEY_PEM": gw_key.private_pem().decode(),
        "GATEWAY_IDENTITY_JWKS_URL": identity.jwks_url,
        "GATEWAY_IDENTITY_ISSUER": ISSUER,
        "GATEWAY_REGISTER_FILE": str(tmp_path / "register.json"),
        "GATEWAY_RATE_LIMIT_AGENCY_RPS": "0",
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "processes.log"
    agency = _spawn("egov_registry", agency_env, log)
    gateway = _spawn("egov_gateway", gw_env, log)
    procs = [agency, gateway]
    try:
        await _wait_live(f"http://127.0.0.1:{agency_port}", agency, log)
        gw_url = f"http://127.0.0.1:{gw_port}"
        await _wait_live(gw_url, gateway, log)
        token = identity.token("agency", "licensing", ttl=3600)
        answered: list[str] = []
        stop = asyncio.Event()

        async def client(c: httpx.AsyncClient) -> None:
            while not stop.is_set():
                rid = f"req-kill-{uuid.uuid4().hex}"
                try:
                    r = await c.get(
                        f"{gw_url}/x/registry/mesh/whoami",
                        headers={"Authorization": f"Bearer {token}", "X-Request-Id": rid},
                    )
                except httpx.HTTPError:
                    return  # the gateway is gone: this call was not answered
                assert r.status_code == 200, r.text
                assert r.json()["request_id"] == rid
                answered.append(rid)

        async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=32)) as c:
            workers = [asyncio.create_task(client(c)) for _ in range(24)]

            async def enough() -> bool:
                return len(answered) >= 400

            await eventually(enough, within=60, what="400 answered calls", interval=0.05)
            gateway.send_signal(signal.SIGKILL)  # mid-load, no goodbye
            gateway.wait(timeout=10)
            await asyncio.wait_for(asyncio.gather(*workers), timeout=30)
        assert len(answered) >= 400

        # every answered call is in the audit log of the killed gateway's database …
        engine = create_engine(db_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(audit_log.c.request_id))
                recorded = {r[0] for r in rows}
        finally:
            await engine.dispose()
        missing = [rid for rid in answered if rid not in recorded]
        assert not missing, f"{len(missing)} answered calls have no audit record"

        # … and the restarted gateway proves the chain intact
        gateway = _spawn("egov_gateway", gw_env, log)
        procs.append(gateway)
        await _wait_live(gw_url, gateway, log)
        async with httpx.AsyncClient() as c:
            op = identity.token("operator", "op-1")
            r = await c.get(
                f"{gw_url}/api/v1/audit/verify", headers={"Authorization": f"Bearer {op}"}
            )
            report: dict[str, Any] = r.json()
            assert r.status_code == 200 and report["ok"] is True, report
            assert report["records_checked"] == len(recorded) >= len(answered)
            # and it continues the same chain after the kill
            r = await c.get(
                f"{gw_url}/x/registry/mesh/whoami", headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 200
            r = await c.get(
                f"{gw_url}/api/v1/audit/verify", headers={"Authorization": f"Bearer {op}"}
            )
            assert r.json()["ok"] is True and r.json()["records_checked"] == len(recorded) + 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
