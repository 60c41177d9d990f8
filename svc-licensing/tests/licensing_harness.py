"""Test harness: contract doubles of registry, identity and payments behind an in-process
gateway, a national test CA, a clock tests can move, and svc-licensing wired to all of them."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select

from egov_licensing.app import create_app
from egov_licensing.bootstrap import Components
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.settings import LicensingSettings
from meshkit.clock import ManualClock
from meshkit.contracts.common import Share
from meshkit.contracts.identity import PersonOut
from meshkit.contracts.payments import InvoiceCreate, InvoiceOut, InvoicePaid
from meshkit.contracts.registry import Founder, LegalEntityOut
from meshkit.events import EventData, TypedEvent, build_envelope
from meshkit.gateway_client import GatewayClient
from meshkit.ids import next_bin, next_iin
from meshkit.messaging.tables import inbox, outbox_journal
from meshkit.trust import NationalTrust
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.ca import TestCA
from meshkit_testing.mesh import transport_for

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

PROBLEM = "application/problem+json"


def iin(n: int, birth: date = date(1985, 4, 12)) -> str:
    return next_iin(birth, "male" if n % 2 else "female", n * 10)[0]


def bin_(n: int) -> str:
    return next_bin(2019, 3, "resident", "head", n * 10, today=date(2026, 1, 1))[0]


OFFICER = iin(99, date(1979, 2, 3))


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": "problem", "status": status, "detail": detail},
        status_code=status,
        media_type=PROBLEM,
    )


@dataclass
class Doubles:
    """State of the three agencies licensing calls, and what they were asked."""

    persons: dict[str, PersonOut] = field(default_factory=dict)
    entities: dict[str, LegalEntityOut] = field(default_factory=dict)
    invoices: dict[str, InvoiceOut] = field(default_factory=dict)  # by Idempotency-Key
    payments_down: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)

    def person(self, iin_: str, *, status: str = "active", birth: date = date(1985, 4, 12)) -> str:
        self.persons[iin_] = PersonOut(
            iin=iin_,
            surname="Сәрсенбаев",
            given_name="Әлихан",
            patronymic="Нұрланұлы",
            birth_date=birth,
            sex="male",
            citizenship="KZ",
            status=status,  # type: ignore[arg-type]
        )
        return iin_

    def entity(
        self,
        bin_value: str,
        director: str,
        *,
        status: str = "active",
        legal_form: str = "LLP",
        activity_codes: list[str] | None = None,
    ) -> str:
        self.entities[bin_value] = LegalEntityOut(
            bin=bin_value,
            name_kk="«Шипагер Дәріхана» ЖШС",
            name_ru="ТОО «Шипагер Дарихана»",
            legal_form=legal_form,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            director_iin=director,
            founders=[Founder(id=director, share=Share(num=1, den=1))],
            address="Алматы қ., Абай даңғылы, 10",
            activity_codes=activity_codes if activity_codes is not None else ["47730"],
            registered_at=datetime(2019, 3, 1, tzinfo=UTC),
        )
        return bin_value

    def identity_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/persons/{iin_}")
        async def get_person(iin_: str, request: Request) -> Any:
            self._record("identity", request)
            p = self.persons.get(iin_)
            return p.model_dump(mode="json") if p else _problem(404, f"no person {iin_}")

        return app

    def registry_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/legal-entities/{bin_value}")
        async def get_entity(bin_value: str, request: Request) -> Any:
            self._record("registry", request)
            e = self.entities.get(bin_value)
            return e.model_dump(mode="json") if e else _problem(404, f"no legal entity {bin_value}")

        return app

    def payments_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/invoices", status_code=201)
        async def create_invoice(
            body: InvoiceCreate, request: Request, idempotency_key: str = Header()
        ) -> Any:
            self._record("payments", request)
            if self.payments_down:
                return _problem(503, "payments is down for maintenance")
            if idempotency_key not in self.invoices:
                self.invoices[idempotency_key] = InvoiceOut(
                    id=f"INV-{uuid.uuid4().hex[:10]}",
                    status="issued",
                    created_at=datetime.now(UTC),
                    **body.model_dump(),
                )
            return self.invoices[idempotency_key].model_dump(mode="json")

        return app

    def _record(self, agency: str, request: Request) -> None:
        self.calls.append(
            {
                "agency": agency,
                "path": request.url.path,
                "purpose": request.headers.get("x-mesh-purpose"),
                "user": request.headers.get("x-mesh-user"),
                "assertion": bool(request.headers.get("x-mesh-assertion")),
                "correlation": request.headers.get("x-correlation-id"),
            }
        )


@dataclass
class Mesh:
    app: FastAPI
    client: httpx.AsyncClient
    gateway: FakeGateway
    doubles: Doubles
    clock: ManualClock
    ca: TestCA
    revoked_certs: set[int]

    @property
    def components(self) -> Components:
        found: Components = self.app.state.runtime.components_as(Components)
        return found

    @property
    def ctx(self) -> LicensingContext:
        return self.components.context

    # -- calls as the gateway would route them ---------------------------------------------
    def _auth(self, **claims: Any) -> httpx.Auth:
        # signed from the request as sent: its query and body are bound too
        return self.gateway.auth("licensing", **claims)

    async def as_citizen(self, method: str, path: str, user: str, **kw: Any) -> httpx.Response:
        auth = self._auth(client="citizen", user=user)
        return await self.client.request(method, path, auth=auth, **kw)

    async def as_agency(
        self,
        method: str,
        path: str,
        agency: str,
        user: str | None = None,
        purpose: str | None = "test",
        **kw: Any,
    ) -> httpx.Response:
        auth = self._auth(client=agency, user=user, purpose=purpose)
        return await self.client.request(method, path, auth=auth, **kw)

    async def as_officer(self, method: str, path: str, **kw: Any) -> httpx.Response:
        auth = self._auth(client="licensing", user=OFFICER, purpose="officer: license review")
        return await self.client.request(method, path, auth=auth, **kw)

    async def apply(
        self, license_type: str, applicant: str, bin_value: str | None, **details: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "license_type": license_type,
            "applicant_iin": applicant,
            "details": details,
        }
        if bin_value:
            body["applicant_bin"] = bin_value
        return await self.as_citizen("POST", "/applications", applicant, json=body)

    # -- events as the consumer would deliver them -----------------------------------------
    async def deliver(
        self, data: EventData, *, event_id: str | None = None, source: str = "/svc-payments"
    ) -> bool:
        """Run this service's handlers on an event inside one unit of work, with the inbox
        check the Kafka consumer makes (so a redelivered id is a no-op)."""
        runtime = self.app.state.runtime
        envelope = build_envelope(data, source=source, subject=None, event_id=event_id)
        typed = TypedEvent(envelope=envelope, data=data)
        uow = runtime.uow_factory()
        async with uow:
            group = runtime.settings.effective_consumer_group
            seen = (
                await uow.session.execute(
                    select(inbox.c.event_id).where(
                        inbox.c.consumer_group == group, inbox.c.event_id == envelope.id
                    )
                )
            ).first()
            if seen:
                return False
            await uow.session.execute(
                insert(inbox).values(
                    consumer_group=group,
                    event_id=envelope.id,
                    event_type=envelope.type,
                    topic="egov.test",
                    partition=0,
                    offset=0,
                    processed_at=datetime.now(UTC),
                )
            )
            uow.correlation_id = uow.causation_id = envelope.id
            for handler in runtime.handlers.handlers_for(envelope.type):
                await handler(typed, uow)
            await uow.commit()
        return True

    async def pay(self, application: dict[str, Any], *, event_id: str | None = None) -> bool:
        return await self.deliver(
            InvoicePaid(
                invoice_id=application["state_duty"]["invoice_id"] or "INV-unknown",
                payer=application["holder"],
                amount_tiyn=application["state_duty"]["amount_tiyn"],
                beneficiary_agency="licensing",
                reference=application["id"],
                paid_at=self.clock.now(),
            ),
            event_id=event_id,
        )

    async def events(self, short_type: str | None = None) -> list[dict[str, Any]]:
        """CloudEvents this service wrote to its outbox, oldest first."""
        async with self.app.state.runtime.session_factory() as session:
            rows = (
                (await session.execute(select(journal.c.payload).order_by(journal.c.id)))
                .scalars()
                .all()
            )
        out = [json.loads(r) for r in rows]
        if short_type:
            out = [e for e in out if e["type"] == f"kz.egov.{short_type}.v1"]
        return out


@asynccontextmanager
async def licensing_mesh(
    tmp_path: Path,
    *,
    database_url: str | None,
    start: datetime,
    certified: bool = True,
    **settings: Any,
) -> AsyncIterator[Mesh]:
    """The service with its neighbours as doubles; ``certified=False``: its document key is
    not certified yet (``m.ctx.document_keys.use(m.ca.signer("licensing"))`` later)."""
    gw = FakeGateway(tmp_path)
    doubles = Doubles()
    clock = ManualClock(start)
    ca = TestCA()
    revoked: set[int] = set()
    opts: dict[str, Any] = {
        "data_dir": tmp_path,
        "kafka_enabled": False,
        "log_json": False,
        "log_level": "WARNING",
        "gateway_jwks_url": gw.jwks_url,
        "sla_check_interval_s": 0.05,
        "retry_interval_s": 0.1,
        "officer_iins": [OFFICER],
    }
    if database_url:
        opts["database_url"] = database_url
    opts.update(settings)
    app = create_app(LicensingSettings(**opts), clock=clock)

    def ca_status(request: httpx.Request) -> httpx.Response:
        serial = int(request.url.path.rsplit("/", 1)[1], 16)
        if serial in revoked:
            return httpx.Response(
                200, json={"status": "revoked", "revoked_at": "2020-01-01T00:00:00+00:00"}
            )
        return httpx.Response(200, json={"status": "good", "revoked_at": None})

    # ttl 0: every verification asks the (mock) CA, so a test may revoke in between
    trust = NationalTrust(
        "http://identity.test", httpx.AsyncClient(transport=httpx.MockTransport(ca_status)), ttl_s=0
    )
    trust.pin([ca.cert])
    signer = ca.signer("licensing")

    def with_doubles(components: Components) -> Components:
        if certified:
            components.context.document_keys.use(signer)
        return dataclasses.replace(
            components, context=dataclasses.replace(components.context, trust=trust)
        )

    app.state.runtime.customise(with_doubles)
    app.state.runtime.gateway = GatewayClient(
        "http://gateway.test",
        client_code="licensing",
        static_token="agency-token",
        transport=transport_for(
            {
                "identity": doubles.identity_app(),
                "registry": doubles.registry_app(),
                "payments": doubles.payments_app(),
            },
            gw,
        ),
    )
    async with running(app) as client:
        yield Mesh(app, client, gw, doubles, clock, ca, revoked)
