"""The whole mesh in one process against a real Kafka: an event published by each service
through its outbox is consumed (inbox) by all six."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshkit_testing.apps import running
from meshkit_testing.polling import eventually
from meshkit_testing.services import SERVICES, build_app

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


async def test_every_service_hears_every_service(tmp_path: Path, kafka: Any) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    clients: dict[str, httpx.AsyncClient] = {}
    async with AsyncExitStack() as stack:
        for service in SERVICES:
            app = build_app(
                service,
                tmp_path,
                kafka_bootstrap_servers=kafka.bootstrap_servers,
                topic_prefix=prefix,
            )
            clients[service] = await stack.enter_async_context(running(app))
        for client in clients.values():
            r = await client.get("/health/ready")
            assert r.status_code == 200 and r.json()["checks"]["kafka"] == "up", r.text
        echoes = {}
        for service, client in clients.items():
            r = await client.post("/mesh/echo", json={"message": f"from {service} — Қазақстан"})
            assert r.status_code == 202
            echoes[service] = r.json()["id"]

        async def all_received() -> bool:
            for client in clients.values():
                for echo_id in echoes.values():
                    if (await client.get(f"/mesh/echo/{echo_id}")).status_code != 200:
                        return False
            return True

        await eventually(all_received, within=90, what="36 echo deliveries")
        for client in clients.values():
            for sender, echo_id in echoes.items():
                receipts = (await client.get(f"/mesh/echo/{echo_id}")).json()
                assert len(receipts) == 1, "delivered more than once in effect"
                assert receipts[0]["from_service"] == sender
                assert receipts[0]["message"] == f"from {sender} — Қазақстан"
