"""A gateway killed with SIGKILL under load loses no audit record of a call it answered.

The gateway and a real agency (svc-registry) run as separate uvicorn processes on free ports;
concurrent clients call through the gateway and note every request id that got a complete
answer; the gateway is SIGKILLed mid-load, restarted on the same database, and every noted
request id must have its audit record, with the chain intact.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from egov_gateway.exchange.adapters.audit_tables import audit_log
from meshkit.db import create_engine
from meshkit_testing.devinfra import free_port
from meshkit_testing.gateway import ProcessMeshKit
from meshkit_testing.polling import eventually
from meshkit_testing.processes import ServiceProcesses

pytestmark = pytest.mark.slow


async def test_sigkill_under_load_loses_no_answered_audit_record(
    tmp_path: Path, db_url: str
) -> None:
    kit = ProcessMeshKit(tmp_path)
    identity = kit.identity
    agency_port, gw_port = free_port(), free_port()
    kit.write_register(agency_port)
    gw_env = kit.gateway_env(gw_port, db_url)
    procs = ServiceProcesses(tmp_path / "processes.log")
    agency = procs.spawn("egov_registry", kit.registry_env(agency_port))
    gateway = procs.spawn("egov_gateway", gw_env)
    try:
        await procs.wait_live(f"http://127.0.0.1:{agency_port}", agency)
        gw_url = f"http://127.0.0.1:{gw_port}"
        await procs.wait_live(gw_url, gateway)
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
        gateway = procs.spawn("egov_gateway", gw_env)
        await procs.wait_live(gw_url, gateway)
        async with httpx.AsyncClient() as c:
            op = identity.token("operator", "op-1", roles=["auditor"])
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
        procs.stop_all()
