"""Fixtures of svc-notary's tests: the app on SQLite and on PostgreSQL, wired through an
in-process routed exchange to contract doubles of identity, registry and payments."""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notary_doubles import MeshState, identity_double, payments_double, registry_double

from egov_notary.seed import demo_notaries
from meshkit.contracts.common import Holder, Share
from meshkit.contracts.payments import InvoicePaid
from meshkit.contracts.registry import Encumbrance, PropertyOut
from meshkit.documents import DocumentSigner
from meshkit.events import EventData, TypedEvent, build_envelope
from meshkit.gateway_client import GatewayClient
from meshkit.ids import random_iin
from meshkit.messaging.tables import outbox_journal
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.ca import sign_content
from meshkit_testing.mesh import transport_for
from meshkit_testing.services import build_app

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

NOTARY_IIN, NOTARY_NAME, NOTARY_LICENSE, NOTARY_REGION = demo_notaries()[0]

_rng = random.Random(20260705)
SELLER_A = random_iin(_rng, sex="male")
SELLER_B = random_iin(_rng, sex="female")
BUYER = random_iin(_rng, sex="female")
ATTORNEY = random_iin(_rng, sex="male")
STRANGER = random_iin(_rng, sex="male")
DECEASED = random_iin(_rng, sex="male")
CADASTRAL = "21:320:101:234"
ARRESTED = "21:320:101:777"


@dataclass
class Notary:
    """The app under test and the mesh around it."""

    app: FastAPI
    client: httpx.AsyncClient
    gateway: FakeGateway
    mesh: MeshState

    # -- calling through the (fake) gateway ---------------------------------------------
    async def call(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        client: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        who = client or ("citizen" if user else "gateway")
        # signed from the request as sent: its query and body are bound too
        auth = self.gateway.auth("notary", client=who, user=user)
        return await self.client.request(method, path, json=json, params=params, auth=auth)

    async def act(self, act_id: str, *, user: str | None = None) -> dict[str, Any]:
        r = await self.call("GET", f"/acts/{act_id}", user=user)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def content(self, act_id: str) -> dict[str, Any]:
        r = await self.call("GET", f"/acts/{act_id}/content", user=NOTARY_IIN)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def sign(
        self,
        act_id: str,
        iin: str,
        *,
        signer: DocumentSigner | None = None,
        whole_content: bool = False,
        as_notary: bool = False,
        user: str | None = None,
    ) -> httpx.Response:
        c = await self.content(act_id)
        jws = sign_content(signer or self.mesh.signer(iin), c, whole_content=whole_content)
        path = f"/acts/{act_id}/notary-signature" if as_notary else f"/acts/{act_id}/signatures"
        return await self.call("POST", path, user=user or iin, json={"jws": jws})

    # -- events ---------------------------------------------------------------------------
    async def deliver(self, data: EventData, *, source: str = "/svc-payments") -> None:
        """Hand an event to the service's handlers as the consumer does (one transaction)."""
        runtime = self.app.state.runtime
        envelope = build_envelope(data, source=source, subject=None)
        typed = TypedEvent(envelope=envelope, data=data)
        uow = runtime.uow_factory()
        async with uow:
            for handler in runtime.handlers.handlers_for(envelope.type):
                await handler(typed, uow)
            await uow.commit()

    async def pay(self, act_id: str) -> InvoicePaid:
        act = await self.act(act_id)
        invoice = self.mesh.invoices[act_id]
        paid = InvoicePaid(
            invoice_id=act["fee"]["invoice_id"],
            payer=invoice.payer,
            amount_tiyn=invoice.amount_tiyn,
            beneficiary_agency="notary",
            reference=act_id,
            paid_at=datetime.now(UTC),
        )
        await self.deliver(paid)
        return paid

    async def outbox(self, event_type: str) -> list[dict[str, Any]]:
        """The events of a type this service wrote to its outbox (envelopes)."""
        runtime = self.app.state.runtime
        async with runtime.session_factory() as session:
            rows = (
                await session.execute(
                    select(journal.c.payload)
                    .where(journal.c.event_type == event_type)
                    .order_by(journal.c.id)
                )
            ).scalars()
            return [json.loads(p) for p in rows]


def arrange_mesh(mesh: MeshState) -> None:
    mesh.add_person(NOTARY_IIN, "Жұмабекова", "Әсел", "Қайратқызы")
    mesh.add_person(SELLER_A, "Сәрсенбаев", "Әлихан", "Нұрланұлы")
    mesh.add_person(SELLER_B, "Сәрсенбаева", "Гүлжан", "Серікқызы")
    mesh.add_person(BUYER, "Өтепова", "Айгерім", "Қуанышқызы")
    mesh.add_person(ATTORNEY, "Ұлықбеков", "Іңкәр", None)
    mesh.add_person(STRANGER, "Петров", "Иван", "Сергеевич")
    mesh.add_person(DECEASED, "Оспанов", "Марат", deceased_on=datetime(2025, 3, 1).date())
    owners = [
        Holder(id=SELLER_A, share=Share(num=2, den=3)),
        Holder(id=SELLER_B, share=Share(num=1, den=3)),
    ]
    mesh.properties[CADASTRAL] = PropertyOut(
        cadastral_number=CADASTRAL,
        kind="apartment",
        address="Астана қ., Мәңгілік Ел даңғылы, 55, 12-пәтер",
        area_m2=74.5,
        owners=owners,
        encumbrances=[
            # a mortgage paid off years ago does not stand in the way
            Encumbrance(
                id="E-1",
                kind="mortgage",
                imposed_by="Halyk Bank",
                imposed_at=datetime(2015, 5, 1, tzinfo=UTC),
                released_at=datetime(2021, 6, 1, tzinfo=UTC),
            )
        ],
    )
    mesh.properties[ARRESTED] = PropertyOut(
        cadastral_number=ARRESTED,
        kind="house",
        address="Алматы қ., Әуезов ауданы, Жандосов к-сі, 7",
        area_m2=180.0,
        owners=owners,
        encumbrances=[
            Encumbrance(
                id="E-2",
                kind="arrest",
                imposed_by="Бостандық аудандық соты",
                imposed_at=datetime(2026, 1, 20, tzinfo=UTC),
            )
        ],
    )


@asynccontextmanager
async def notary_service(
    tmp_path: Path, database_url: str | None, **overrides: Any
) -> AsyncIterator[Notary]:
    """svc-notary in-process, its outgoing gateway calls served by the contract doubles."""
    gateway = FakeGateway(tmp_path)
    mesh = MeshState()
    arrange_mesh(mesh)
    settings: dict[str, Any] = {
        "kafka_enabled": False,
        "gateway_jwks_url": gateway.jwks_url,
        **overrides,
    }
    if database_url:
        settings["database_url"] = database_url
    app = build_app("notary", tmp_path, **settings)
    async with running(app) as client:
        app.state.runtime.gateway = GatewayClient(
            "http://gateway",
            client_code="notary",
            transport=transport_for(
                {
                    "identity": identity_double(mesh),
                    "registry": registry_double(mesh),
                    "payments": payments_double(mesh),
                },
                gateway,
            ),
        )
        yield Notary(app=app, client=client, gateway=gateway, mesh=mesh)


@pytest.fixture
async def notary(tmp_path: Path, database_url: str | None) -> AsyncIterator[Notary]:
    async with notary_service(tmp_path, database_url) as service:
        yield service


def sale_draft(cadastral: str = CADASTRAL, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "property_sale",
        "cadastral_number": cadastral,
        "sellers": [
            {"iin": SELLER_A, "share": {"num": 2, "den": 3}},
            {"iin": SELLER_B, "share": {"num": 1, "den": 3}},
        ],
        "buyers": [{"iin": BUYER, "share": {"num": 1, "den": 1}}],
        "price_tiyn": 4_250_000_000,
        **extra,
    }


def poa_draft(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "power_of_attorney",
        "principal_iin": SELLER_A,
        "attorney_iin": ATTORNEY,
        "powers": ["represent the principal before the real estate registry of Астана"],
        "valid_until": "2027-06-30",
        **extra,
    }


def new_id() -> str:
    return str(uuid.uuid4())
