"""Test harness of offers, notifications and figures: a gateway with the seeded register, a
test token issuer, and a way to hand events to its handlers as the consumer does.

Used by the gateway's tests; nothing here runs in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from egov_gateway.bootstrap import components_of, overrides_of
from egov_gateway.singlewindow.applications.adapters.tables import applications
from egov_gateway.singlewindow.applications.domain.ports import CallOutcome
from egov_gateway.singlewindow.notifications.adapters.sms import SmsResult
from meshkit.events import CloudEvent, EventData, TypedEvent, build_envelope
from meshkit.ids import make_iin
from meshkit.messaging.handlers import dispatch
from meshkit.service import ServiceRuntime
from meshkit_testing.apps import running
from meshkit_testing.gateway import ISSUER, TestIdentity
from meshkit_testing.services import build_app

AGENCY_HOSTS = {
    a: f"http://{a}.test:80" for a in ("identity", "registry", "licensing", "payments", "notary")
}


def iin(serial: int, *, born: date = date(1990, 5, 17), sex: str = "female") -> str:
    """A valid IIN (the first valid one from ``serial`` on)."""
    for s in range(serial, serial + 50):
        found = make_iin(born, "female" if sex == "female" else "male", s)
        if found is not None:
            return found
    raise AssertionError("no valid IIN")


class RecordingCaller:
    """Stands in for the agencies behind the routed exchange: every step call succeeds."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def call(self, request: Any, **kw: Any) -> CallOutcome:
        self.calls.append(
            {
                "method": request.method,
                "agency": request.agency,
                "path": request.path,
                "body": request.body,
                **kw,
            }
        )
        return CallOutcome(True, 201, {"id": f"R-{len(self.calls)}", "status": "completed"})


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.result = SmsResult(True)

    async def send(self, iin: str, text: str, reference: str) -> SmsResult:
        self.sent.append((iin, text, reference))
        return self.result


class _Refuse(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no agencies in this test", request=request)


@dataclass
class SingleWindowHarness:
    client: httpx.AsyncClient
    app: FastAPI
    identity: TestIdentity
    agencies: RecordingCaller
    sms: RecordingSms

    @property
    def runtime(self) -> ServiceRuntime:
        rt: ServiceRuntime = self.app.state.runtime
        return rt

    def citizen(self, who: str) -> dict[str, str]:
        return self.identity.bearer("citizen", who)

    async def deliver(
        self,
        data: EventData,
        *,
        subject: str | None = None,
        correlation_id: str | None = None,
        event_id: str | None = None,
    ) -> CloudEvent:
        """Run the gateway's handlers of ``data`` in one unit of work, as the consumer does
        (without the inbox: redelivery tests prove the handlers' own idempotency)."""
        envelope = build_envelope(
            data,
            source=f"/svc-{data.producer()}",
            subject=subject,
            correlation_id=correlation_id,
            event_id=event_id,
        )
        await self.redeliver(envelope, data)
        return envelope

    async def redeliver(self, envelope: CloudEvent, data: EventData) -> None:
        typed: TypedEvent[Any] = TypedEvent(envelope=envelope, data=data)
        async with self.runtime.uow_factory() as uow:
            await dispatch(self.runtime.handlers, typed, uow)
            await uow.commit()

    async def add_application(
        self,
        *,
        id: str,
        applicant_iin: str,
        service_code: str,
        submitted_at: datetime,
        due_at: datetime,
        status: str = "submitted",
        agency: str = "registry",
        origin: str = "portal",
        completed_at: datetime | None = None,
        overdue_at: datetime | None = None,
        rating: int | None = None,
    ) -> None:
        """A row of the applications table, as the single window would have written it."""
        async with self.runtime.engine.begin() as conn:
            await conn.execute(
                applications.insert().values(
                    id=id,
                    service_code=service_code,
                    agency=agency,
                    kind="composite" if service_code.startswith("cx-") else "simple",
                    applicant_iin=applicant_iin,
                    origin=origin,
                    status=status,
                    payload={},
                    context={},
                    submitted_at=submitted_at,
                    due_at=due_at,
                    completed_at=completed_at,
                    overdue_at=overdue_at,
                    rating=rating,
                    version=1,
                    updated_at=completed_at or submitted_at,
                )
            )

    async def send_sms(self) -> int:
        """One round of the SMS dispatcher (its loop does not run in these tests)."""
        sent: int = await components_of(self.app).sms.run_once()
        return sent

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.runtime.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


async def start_single_window(
    tmp_path: Path, db_url: str, **overrides: Any
) -> AsyncIterator[SingleWindowHarness]:
    identity = TestIdentity(tmp_path)
    settings: dict[str, Any] = {
        "kafka_enabled": False,
        "database_url": db_url,
        "identity_jwks_url": identity.jwks_url,
        "identity_issuer": ISSUER,
        "agency_urls": AGENCY_HOSTS,
        "register_options": {"background": False},
    }
    settings.update(overrides)
    app = build_app("gateway", tmp_path / "gw", **settings)
    parts = overrides_of(app)
    parts.register_transport = _Refuse()
    agencies, sms = RecordingCaller(), RecordingSms()
    parts.applications_caller = agencies
    parts.sms_sender, parts.sms_dispatch = sms, False
    async with running(app) as client:
        yield SingleWindowHarness(client, app, identity, agencies, sms)
