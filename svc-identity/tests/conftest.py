"""Fixtures of svc-identity's tests: the service in-process on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from egov_identity.app import create_app
from egov_identity.bootstrap import Components
from egov_identity.settings import IdentitySettings
from meshkit.clock import ShiftedClock
from meshkit.devsecrets import dev_secret
from meshkit.messaging.tables import outbox_journal
from meshkit_testing.apps import FakeGateway, running

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

#: cheap argon2 parameters: the tests exercise the flows, not the hash's cost
FAST_HASH = {"password_time_cost": 1, "password_memory_kib": 8192, "password_parallelism": 1}

ALIKHAN = "900115300122"  # demo citizen, father of NURSULTAN
GULNUR = "920308400210"  # demo citizen, mother of NURSULTAN
NURSULTAN = "190601500314"  # demo minor child
ERGALI = "851123300454"  # demo citizen, no family
OPERATOR = "880707300858"


@dataclass
class Svc:
    app: FastAPI
    client: httpx.AsyncClient
    gateway: FakeGateway
    data_dir: Path

    @property
    def identity(self) -> Components:
        found: Components = self.app.state.runtime.components_as(Components)
        return found

    def use_clock(self) -> ShiftedClock:
        """The service's one clock (every rule reads it): the test moves it."""
        clock = self.identity.clock
        assert isinstance(clock, ShiftedClock)
        return clock

    @property
    def demo_password(self) -> str:
        return dev_secret("demo-citizen-password", self.data_dir)

    def client_secret(self, code: str) -> str:
        return dev_secret(f"client:{code}", self.data_dir)

    @property
    def admin_headers(self) -> dict[str, str]:
        token = self.identity.settings.effective_admin_token
        return {"Authorization": f"Bearer {token}"}

    async def routed(
        self,
        method: str,
        path: str,
        *,
        client: str = "registry",
        user: str | None = None,
        purpose: str | None = "test",
        **kwargs: Any,
    ) -> httpx.Response:
        # signed from the request as sent: its query and body are bound too
        auth = self.gateway.auth("identity", client=client, user=user, purpose=purpose)
        return await self.client.request(method, path, auth=auth, **kwargs)

    async def as_citizen(self, method: str, path: str, iin: str, **kwargs: Any) -> httpx.Response:
        return await self.routed(method, path, client="citizen", user=iin, **kwargs)

    async def last_code(self, phone: str) -> str:
        r = await self.client.get("/dev/sms", params={"phone": phone})
        assert r.status_code == 200, r.text
        code: str = r.json()[0]["code"]
        return code

    async def login(self, iin: str, password: str | None = None) -> dict[str, Any]:
        """Password then the SMS code: the token response."""
        r = await self.client.post(
            "/auth/login", json={"iin": iin, "password": password or self.demo_password}
        )
        assert r.status_code == 200, r.text
        challenge = r.json()["challenge_id"]
        person = await self.routed("GET", f"/persons/{iin}")
        code = await self.last_code(person.json()["phone"])
        r = await self.client.post("/auth/otp", json={"challenge_id": challenge, "code": code})
        assert r.status_code == 200, r.text
        tokens: dict[str, Any] = r.json()
        return tokens

    async def events(self, type_suffix: str = "") -> list[dict[str, Any]]:
        """Envelopes this service wrote to its outbox (optionally of one type)."""
        async with self.app.state.runtime.engine.connect() as conn:
            rows = (await conn.execute(select(journal.c.payload).order_by(journal.c.id))).all()
        found = [json.loads(r.payload) for r in rows]
        return [e for e in found if e["type"].endswith(type_suffix)] if type_suffix else found


def make_app(
    tmp_path: Path, gw: FakeGateway, database_url: str | None, **overrides: Any
) -> FastAPI:
    settings: dict[str, Any] = {
        "kafka_enabled": False,
        "gateway_jwks_url": gw.jwks_url,
        **FAST_HASH,
        **overrides,
    }
    if database_url:
        settings["database_url"] = database_url
    # as meshkit_testing.services.build_app, with a clock the tests can move
    return create_app(
        IdentitySettings(data_dir=tmp_path, dev_mode=True, log_json=False, **settings),
        clock=ShiftedClock(),
    )


@pytest.fixture
async def svc(tmp_path: Path, database_url: str | None) -> AsyncIterator[Svc]:
    gw = FakeGateway(tmp_path)
    app = make_app(tmp_path, gw, database_url)
    async with running(app) as client:
        yield Svc(app, client, gw, tmp_path)


@pytest.fixture
async def tight_otp_limit(tmp_path: Path, database_url: str | None) -> AsyncIterator[Svc]:
    """Identity with a tight per-IIN limit of code answers (2 saved up, 1 a minute)."""
    gw = FakeGateway(tmp_path)
    app = make_app(tmp_path, gw, database_url, otp_rate_per_minute=1, otp_rate_burst=2)
    async with running(app) as client:
        yield Svc(app, client, gw, tmp_path)


@pytest.fixture
async def lock_keeps_sessions(tmp_path: Path, database_url: str | None) -> AsyncIterator[Svc]:
    """Identity configured so that a lockout does not revoke sessions."""
    gw = FakeGateway(tmp_path)
    app = make_app(tmp_path, gw, database_url, lock_revokes_sessions=False)
    async with running(app) as client:
        yield Svc(app, client, gw, tmp_path)


@pytest.fixture
def svc_with(
    tmp_path: Path, database_url: str | None
) -> Callable[..., AbstractAsyncContextManager[Svc]]:
    """Identity with settings of the test's choosing: ``async with svc_with(x=1) as svc``."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Svc]:
        gw = FakeGateway(tmp_path)
        app = make_app(tmp_path, gw, database_url, **overrides)
        async with running(app) as client:
            yield Svc(app, client, gw, tmp_path)

    return start
