"""A running svc-payments for tests: the app, a fake gateway, the sandbox bank wired back to
the app in-process, and helpers to call it as an agency, a citizen or the bank."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from egov_payments.adapters import orm
from egov_payments.adapters.signing import signed_headers
from egov_payments.app import create_app
from egov_payments.bootstrap import Components
from egov_payments.sandbox_acquirer.bank import SandboxBank
from egov_payments.sandbox_acquirer.settings import SandboxAcquirerSettings
from egov_payments.service_layer.services import UowFactory
from egov_payments.settings import PaymentsSettings
from meshkit.clock import BusinessClock
from meshkit.contracts.identity import PersonOut
from meshkit.gateway_client import GatewayClient
from meshkit.ids import random_bin, random_iin
from meshkit.messaging.tables import outbox_journal
from meshkit.service import ServiceRuntime
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.mesh import transport_for

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

SECRET = "test-acquirer-secret"
rng = random.Random(20261124)


def new_iin() -> str:
    return random_iin(rng)


def new_bin() -> str:
    return random_bin(rng, entity_type="resident", kind="head")


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": "problem", "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


@dataclass
class Owners:
    """Contract doubles of the two owners of the facts allowances depend on, reached by
    svc-payments through an in-process routed exchange (``meshkit_testing.mesh``): identity's
    ``GET /persons/{iin}`` and registry's ``GET /deaths?iin=``; and what they were asked."""

    persons: dict[str, PersonOut] = field(default_factory=dict)
    deaths: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)  # agencies answering 503
    calls: list[dict[str, Any]] = field(default_factory=list)

    def person(
        self,
        iin: str | None = None,
        *,
        mother: str | None = None,
        father: str | None = None,
        birth: date = date(2026, 1, 10),
    ) -> str:
        iin = iin or new_iin()
        self.persons[iin] = PersonOut(
            iin=iin,
            surname="Сәрсенбаева",
            given_name="Әйгерім",
            birth_date=birth,
            sex="female",
            citizenship="KZ",
            status="active",
            mother_iin=mother,
            father_iin=father,
        )
        return iin

    def register_death(self, iin: str, *, declarant: str | None = None) -> str:
        act = f"D-2026-{len(self.deaths) + 1:07d}"
        self.deaths.setdefault(iin, []).append(
            {
                "act_number": act,
                "iin": iin,
                "date_of_death": "2026-11-30",
                "registered_at": "2026-12-01T09:00:00+00:00",
                "declarant_iin": declarant,
            }
        )
        return act

    def _record(self, agency: str, request: Request) -> None:
        self.calls.append(
            {
                "agency": agency,
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "user": request.headers.get("x-mesh-user"),
                "purpose": request.headers.get("x-mesh-purpose"),
                "assertion": request.headers.get("x-mesh-assertion"),
            }
        )

    def identity_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/persons/{iin}")
        async def person(iin: str, request: Request) -> Any:
            self._record("identity", request)
            if "identity" in self.down:
                return _problem(503, "identity is down")
            found = self.persons.get(iin)
            if found is None:
                return _problem(404, f"no person {iin}")
            return JSONResponse(found.model_dump(mode="json"))

        return app

    def registry_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/deaths")
        async def deaths(iin: str, request: Request) -> Any:
            self._record("registry", request)
            if "registry" in self.down:
                return _problem(503, "registry is down")
            return JSONResponse(self.deaths.get(iin, []))

        return app


@dataclass
class Payments:
    app: FastAPI
    client: httpx.AsyncClient
    gw: FakeGateway
    owners: Owners

    @property
    def runtime(self) -> ServiceRuntime:
        rt: ServiceRuntime = self.app.state.runtime
        return rt

    @property
    def uows(self) -> UowFactory:
        return cast(UowFactory, self.runtime.uow_factory)

    @property
    def bank(self) -> SandboxBank:
        bank = self.components.bank
        assert bank is not None, "the sandbox bank is not enabled"
        return bank

    @property
    def clock(self) -> BusinessClock:
        return self.components.clock

    @property
    def components(self) -> Components:
        found: Components = self.runtime.components_as(Components)
        return found

    @property
    def is_postgres(self) -> bool:
        return self.runtime.engine.dialect.name == "postgresql"

    # -- routed calls -----------------------------------------------------------------------
    async def call(
        self,
        method: str,
        path: str,
        *,
        client: str = "registry",
        user: str | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        # signed from the request as sent: its query and body are bound too
        auth = self.gw.auth("payments", client=client, user=user)
        return await self.client.request(method, path, json=json_body, headers=headers, auth=auth)

    async def as_citizen(
        self, method: str, path: str, iin: str, json_body: Any = None
    ) -> httpx.Response:
        return await self.call(method, path, client="citizen", user=iin, json_body=json_body)

    async def create_invoice(
        self,
        *,
        payer: str | None = None,
        amount_tiyn: int = 1_534_000,
        agency: str = "registry",
        kbk: str = "108114",
        key: str | None = None,
        due_date: date | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {
            "payer": payer or new_iin(),
            "amount_tiyn": amount_tiyn,
            "currency": "KZT",
            "purpose": "Мемлекеттік баж: ЖШС тіркеу (Әә Ғғ Ққ Ңң Өө Ұұ Үү Һһ Іі)",
            "kbk": kbk,
            "beneficiary_agency": agency,
            "due_date": (due_date or date.today() + timedelta(days=10)).isoformat(),
            "reference": f"APP-{uuid.uuid4().hex[:8]}",
            **extra,
        }
        r = await self.call(
            "POST",
            "/invoices",
            client=agency,
            json_body=body,
            headers={"Idempotency-Key": key or uuid.uuid4().hex},
        )
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def start_payment(
        self, invoice: dict[str, Any], payer: str | None = None
    ) -> dict[str, Any]:
        who = payer or invoice["payer"]
        r = await self.as_citizen("POST", f"/invoices/{invoice['id']}/payments", who)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def invoice(self, invoice_id: str, agency: str = "registry") -> dict[str, Any]:
        r = await self.call("GET", f"/invoices/{invoice_id}", client=agency)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    async def pay(self, invoice: dict[str, Any]) -> dict[str, Any]:
        """Start a payment, approve it at the bank, wait for the callback to land."""
        session = await self.start_payment(invoice)
        r = await self.client.post(
            f"/sandbox-acquirer/pay/{session['acquirer_payment_id']}",
            json={"decision": "approve"},
        )
        assert r.status_code == 200 and r.json()["status"] == "captured", r.text
        await self.wait_for(
            lambda: self._status_is(invoice["id"], "paid", invoice["beneficiary_agency"]),
            f"invoice {invoice['id']} paid",
        )
        return session

    async def _status_is(self, invoice_id: str, status: str, agency: str) -> bool:
        return (await self.invoice(invoice_id, agency))["status"] == status

    async def wait_for(self, predicate: Any, what: str, within: float = 15) -> None:
        from meshkit_testing.polling import eventually

        await eventually(predicate, within=within, what=what, interval=0.05)

    # -- the bank's door ----------------------------------------------------------------------
    def callback_body(
        self,
        *,
        type_: str,
        payment_id: str,
        amount_tiyn: int,
        event_id: str | None = None,
        refund_id: str | None = None,
        occurred_at: datetime | None = None,
        currency: str = "KZT",
    ) -> bytes:
        return json.dumps(
            {
                "event_id": event_id or f"evt_{uuid.uuid4().hex}",
                "type": type_,
                "payment_id": payment_id,
                "acquirer_payment_id": None,
                "refund_id": refund_id,
                "amount_tiyn": amount_tiyn,
                "currency": currency,
                "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
            }
        ).encode()

    async def send_callback(
        self, body: bytes, *, timestamp: int | None = None, secret: str = SECRET, **hdrs: str
    ) -> httpx.Response:
        headers = signed_headers(
            secret, body, timestamp=timestamp or int(time.time()), acquirer="sandbox"
        )
        headers.update(hdrs)
        return await self.client.post("/acquirer/callbacks", content=body, headers=headers)

    # -- what the database holds ------------------------------------------------------------------
    async def events(self, event_type: str, subject: str | None = None) -> list[dict[str, Any]]:
        async with self.runtime.session_factory() as s:
            stmt = select(journal.c.payload, journal.c.message_key).where(
                journal.c.event_type == event_type
            )
            if subject is not None:
                stmt = stmt.where(journal.c.message_key == subject)
            rows = (await s.execute(stmt)).all()
        return [json.loads(r[0]) for r in rows]

    async def scalar(self, stmt: Any) -> Any:
        async with self.runtime.session_factory() as s:
            return (await s.execute(stmt)).scalar_one()

    async def ledger_total(self) -> int:
        return int(
            await self.scalar(select(func.coalesce(func.sum(orm.ledger_entries.c.amount_tiyn), 0)))
        )

    async def entry_count(self) -> int:
        return int(await self.scalar(select(func.count()).select_from(orm.ledger_entries)))

    async def balance(self, account: str) -> int:
        e = orm.ledger_entries
        return int(
            await self.scalar(
                select(func.coalesce(func.sum(e.c.amount_tiyn), 0)).where(e.c.account == account)
            )
        )


def settings_for(
    tmp_path: Path, database_url: str | None, gw: FakeGateway, **over: Any
) -> PaymentsSettings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "dev_mode": True,
        "log_json": False,
        "kafka_enabled": False,
        "gateway_jwks_url": gw.jwks_url,
        "public_url": "http://svc",
        "acquirer_hmac_secret": SECRET,
        "expiry_interval_s": 3600,
        "sandbox": SandboxAcquirerSettings(
            callback_delay_s=0, retry_backoff_s=0.05, max_attempts=3
        ),
    }
    if database_url:
        values["database_url"] = database_url
    values.update(over)
    return PaymentsSettings(**values)


@asynccontextmanager
async def payments_service(
    tmp_path: Path, database_url: str | None, **over: Any
) -> AsyncIterator[Payments]:
    gw = FakeGateway(tmp_path)
    owners = Owners()
    app = create_app(settings_for(tmp_path, database_url, gw, **over))
    # payments' calls through the gateway (allowance eligibility) reach the owners' doubles
    runtime: ServiceRuntime = app.state.runtime
    runtime.gateway = GatewayClient(
        "http://gateway.test",
        client_code="payments",
        static_token="agency-token",
        transport=transport_for(
            {"identity": owners.identity_app(), "registry": owners.registry_app()}, gw
        ),
    )
    async with running(app) as client:
        svc = Payments(app, client, gw, owners)
        # the bank calls back over HTTP, here into the same in-process app
        bank_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
        svc.bank.http = bank_http
        try:
            yield svc
        finally:
            await svc.bank.aclose()
            await bank_http.aclose()
