"""The register through its HTTP API, on SQLite and PostgreSQL: search, admin, ACL, directory
services (validated against the GovStack IM schemas), OpenAPI fetch/refresh, outages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from sqlalchemy import select

from egov_gateway.bootstrap import components_of, overrides_of
from egov_gateway.register.seed import seed_day
from egov_gateway.register.service_layer.register import UnifiedRegister
from meshkit.messaging.tables import outbox_journal
from meshkit.problems import PROBLEM_JSON
from meshkit.reference import mrp_tiyn
from meshkit_testing.apps import running
from meshkit_testing.polling import eventually
from meshkit_testing.services import build_app

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

TOKEN = "test-admin-token-9f1c"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
AGENCY_HOSTS = {
    a: f"http://{a}.test:80" for a in ("identity", "registry", "licensing", "payments", "notary")
}


class Agencies(httpx.AsyncBaseTransport):
    """In-process agencies by host; a host in ``down`` refuses connections."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: set[str] = set()

    def serve(self, agency: str, app: FastAPI) -> None:
        self.apps[f"{agency}.test"] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"connection refused: {host}", request=request)
        return await self.apps[host].handle_async_request(request)


@dataclass
class Gateway:
    client: httpx.AsyncClient
    app: FastAPI
    agencies: Agencies
    now: list[datetime] = field(default_factory=lambda: [datetime(2026, 11, 2, 9, 0, tzinfo=UTC)])

    @property
    def register(self) -> UnifiedRegister:
        reg: UnifiedRegister = components_of(self.app).register
        return reg

    async def outbox_types(self) -> list[str]:
        async with self.app.state.runtime.engine.connect() as conn:
            rows = await conn.execute(select(journal.c.event_type).order_by(journal.c.id))
            return [r[0] for r in rows]


def gateway_app(
    tmp_path: Path, database_url: str | None, **options: Any
) -> tuple[FastAPI, Agencies]:
    agencies = Agencies()
    app = build_app(
        "gateway",
        tmp_path,
        kafka_enabled=False,
        database_url=database_url,
        admin_token=TOKEN,
        agency_urls=AGENCY_HOSTS,
        register_options={"background": False, "probe_failures_to_open": 1, **options},
    )
    overrides_of(app).register_transport = agencies
    return app, agencies


@pytest.fixture
async def gw(tmp_path: Path, database_url: str | None) -> AsyncIterator[Gateway]:
    app, agencies = gateway_app(tmp_path, database_url)
    async with running(app) as client:
        g = Gateway(client, app, agencies)
        g.register.clock = lambda: g.now[0]
        yield g


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


# -- search ------------------------------------------------------------------------------------
async def test_search_in_three_languages_with_kazakh_letters(gw: Gateway) -> None:
    c = gw.client
    r = await c.get("/api/v1/services", params={"q": "ЖАУАПКЕРШІЛІГІ шектеулі", "lang": "kk"})
    assert r.status_code == 200
    body = r.json()
    assert [s["code"] for s in body["items"]] == ["rg-llp-registration"] and body["total"] == 1
    llp = body["items"][0]
    assert llp["name"] == "Жауапкершілігі шектеулі серіктестікті тіркеу"
    assert llp["names"]["ru"].startswith("Государственная регистрация товарищества")
    # 6.5 MRP of the year the register is seeded (meshkit.reference, the one MRP table)
    assert llp["fee"] == {"amount_tiyn": 26 * mrp_tiyn(seed_day()) // 4, "currency": "KZT"}
    assert llp["operations"][0] == {
        "operation_id": "registry:POST /legal-entities",
        "agency": "registry",
        "method": "POST",
        "path": "/legal-entities",
    }
    r = await c.get("/api/v1/services", params={"q": "НЕДВИЖИМ", "lang": "ru"})
    codes = {s["code"] for s in r.json()["items"]}
    assert {"rg-property-ownership-certificate", "rg-property-rights-certificate"} <= codes
    assert all("недвижим" in s["names"]["ru"].lower() for s in r.json()["items"])
    r = await c.get("/api/v1/services", params={"q": "POWER of attorney", "lang": "en"})
    items = r.json()["items"]
    assert {s["code"] for s in items} == {"nt-power-of-attorney", "nt-poa-revocation"}
    assert items[0]["name"].lower().count("power of attorney") == 1
    # lower-case Kazakh query matches upper-case Kazakh letters in a name
    r = await c.get("/api/v1/services", params={"q": "әділет"})
    assert r.json()["total"] == 0  # member names are not service names
    # a word of a description finds its services (Ұлттық куәландырушы орталық, Ұлттық тізілім)
    r = await c.get("/api/v1/services", params={"q": "ұлттық", "lang": "kk"})
    assert {s["code"] for s in r.json()["items"]} == {"id-eds-issue", "rg-legal-entity-search"}
    r = await c.get("/api/v1/services", params={"q": "ЛИЦЕНЗИЯ", "kind": "simple", "lang": "kk"})
    assert r.json()["total"] >= 9


async def test_filters_pagination_and_404(gw: Gateway) -> None:
    c = gw.client
    r = await c.get("/api/v1/services", params={"kind": "composite", "lang": "en"})
    composites = r.json()
    assert composites["total"] == 4
    assert {s["code"] for s in composites["items"]} >= {
        "cx-birth-of-child",
        "cx-open-business",
        "cx-buy-home",
    }
    birth = next(s for s in composites["items"] if s["code"] == "cx-birth-of-child")
    assert [st["name"] for st in birth["steps"]] == [
        "register_birth",
        "confirm_child_record",
        "birth_certificate",
        "birth_allowance",
    ]
    # every step of a composite has a title a citizen reads, in the three languages
    assert birth["steps"][2]["title"] == {
        "kk": "Туу туралы куәлік",
        "ru": "Свидетельство о рождении",
        "en": "Birth certificate",
    }
    assert all(st["title"] and all(st["title"].values()) for st in birth["steps"])
    assert birth["steps"][0]["completes_on"] == "kz.egov.registry.birth.registered.v1"

    r = await c.get("/api/v1/services", params={"agency": "notary", "page_size": 100})
    notary = r.json()
    assert notary["total"] >= 8 and all(s["agency"] == "notary" for s in notary["items"])

    r = await c.get("/api/v1/services", params={"page_size": 100})
    total = r.json()["total"]
    assert total >= 40
    seen: list[str] = []
    page = 1
    while True:
        r = await c.get("/api/v1/services", params={"page": page, "page_size": 7})
        body = r.json()
        assert body["total"] == total and body["page"] == page and body["page_size"] == 7
        if not body["items"]:
            break
        assert len(body["items"]) <= 7
        seen.extend(s["code"] for s in body["items"])
        page += 1
    assert len(seen) == total == len(set(seen)) and seen == sorted(seen)

    r = await c.get("/api/v1/services", params={"citizen_facing": "false", "agency": "identity"})
    assert {s["code"] for s in r.json()["items"]} >= {"id-person-registration", "id-consent-check"}

    problem(await c.get("/api/v1/services", params={"page_size": 0}), 422)
    problem(await c.get("/api/v1/services", params={"lang": "de"}), 422)
    body = problem(await c.get("/api/v1/services/no-such-service"), 404)
    assert "no-such-service" in body["detail"]
    r = await c.get("/api/v1/services/rg-birth-registration", params={"lang": "ru"})
    assert (
        r.status_code == 200 and r.json()["name"] == "Государственная регистрация рождения ребёнка"
    )


# -- admin -------------------------------------------------------------------------------------
async def test_admin_requires_the_admin_token(gw: Gateway) -> None:
    c = gw.client
    body = problem(await c.get("/api/v1/admin/members"), 401)
    assert "Bearer" in body["detail"]
    problem(await c.get("/api/v1/admin/members", headers={"Authorization": "Basic abc"}), 401)
    # neither the break-glass token nor a valid operator token: 401 (meshkit.auth.roles)
    problem(await c.get("/api/v1/admin/members", headers={"Authorization": "Bearer wrong"}), 401)
    problem(
        await c.post(
            "/api/v1/admin/members/registry/suspend",
            json={},
            headers={"Authorization": "Bearer wrong"},
        ),
        401,
    )
    assert (await gw.register.resolve("registry", "POST", "/births", {})).member_status == "active"  # type: ignore[union-attr]
    r = await c.get("/api/v1/admin/members", headers=ADMIN)
    assert r.status_code == 200
    members = {m["code"]: m for m in r.json()}
    assert members["registry"]["base_urls"] == [AGENCY_HOSTS["registry"]]
    assert members["gateway"]["provider"] is False


async def test_member_suspension_takes_effect_at_once(gw: Gateway) -> None:
    c, reg = gw.client, gw.register
    assert await reg.is_granted("registry", "identity:POST /persons")
    r = await c.post(
        "/api/v1/admin/members/registry/suspend",
        json={"reason": "security incident"},
        headers=ADMIN,
    )
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    resolved = await reg.resolve("registry", "POST", "/births", {})
    assert resolved is not None and resolved.member_status == "suspended"
    assert not await reg.is_granted("registry", "identity:POST /persons")
    problem(await c.post("/api/v1/admin/members/registry/suspend", json={}, headers=ADMIN), 422)
    r = await c.get("/r1/listClients")
    assert "registry" not in {m["id"].get("applicationCode") for m in r.json()["member"]}
    r = await c.post("/api/v1/admin/members/registry/activate", json={}, headers=ADMIN)
    assert r.json()["status"] == "active"
    assert (await reg.resolve("registry", "POST", "/births", {})).member_status == "active"  # type: ignore[union-attr]
    assert await reg.is_granted("registry", "identity:POST /persons")
    assert (await gw.outbox_types()).count("kz.egov.gateway.member.changed.v1") == 2
    problem(await c.post("/api/v1/admin/members/nobody/suspend", json={}, headers=ADMIN), 404)


async def test_add_and_update_a_member(gw: Gateway) -> None:
    c = gw.client
    body = {
        "code": "halyk-bank",
        "member_class": "COM",
        "member_code": "920140000084",
        "names": {
            "kk": "«Қазақстан Халық Банкі» АҚ",
            "ru": "АО «Народный Банк Казахстана»",
            "en": "Halyk Bank of Kazakhstan JSC",
        },
        "provider": False,
    }
    bad = problem(
        await c.post(
            "/api/v1/admin/members", json={**body, "member_code": "920140000085"}, headers=ADMIN
        ),
        422,
    )
    assert "member_code" in bad["errors"]
    r = await c.post("/api/v1/admin/members", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    assert r.json()["xroad"] == {
        "instance": "KZ",
        "member_class": "COM",
        "member_code": "920140000084",
        "subsystem": "halyk-bank",
    }
    problem(await c.post("/api/v1/admin/members", json=body, headers=ADMIN), 409)
    assert (
        await gw.register.agency_for_xroad("KZ", "COM", "920140000084", "halyk-bank")
        == "halyk-bank"
    )
    # a bank may be granted the encumbrance registration at once
    r = await c.post(
        "/api/v1/admin/grants",
        json={
            "client": "halyk-bank",
            "operation_id": "registry:POST /properties/{cadastral_number}/encumbrances",
        },
        headers=ADMIN,
    )
    assert r.status_code == 201
    r = await c.get("/api/v1/clients/halyk-bank/operations", params={"agency": "registry"})
    ops = {o["operation_id"]: o["via"] for o in r.json()["items"]}
    assert ops["registry:POST /properties/{cadastral_number}/encumbrances"] == "grant"
    assert ops["registry:GET /public/certificates/{number}"] == "public"
    r = await c.patch(
        "/api/v1/admin/members/halyk-bank",
        json={"names": {**body["names"], "en": "Halyk Bank"}},
        headers=ADMIN,
    )
    assert r.status_code == 200 and r.json()["names"]["en"] == "Halyk Bank"
    types = await gw.outbox_types()
    assert types.count("kz.egov.gateway.member.changed.v1") == 2
    assert types.count("kz.egov.gateway.grant.changed.v1") == 1


async def test_grant_edits_take_effect_at_once(gw: Gateway) -> None:
    c, reg = gw.client, gw.register
    op = "registry:GET /legal-entities/{bin}"
    assert not await reg.is_granted("payments", op)
    r = await c.post(
        "/api/v1/admin/grants", json={"client": "payments", "operation_id": op}, headers=ADMIN
    )
    assert r.status_code == 201
    assert await reg.is_granted("payments", op)
    r = await c.post(
        "/api/v1/admin/grants", json={"client": "payments", "operation_id": op}, headers=ADMIN
    )
    assert r.status_code == 200  # already there
    r = await c.get("/api/v1/admin/grants", params={"client": "payments"}, headers=ADMIN)
    assert {"client": "payments", "operation_id": op} in r.json()["items"]
    r = await c.delete(
        "/api/v1/admin/grants", params={"client": "payments", "operation_id": op}, headers=ADMIN
    )
    assert r.status_code == 204
    assert not await reg.is_granted("payments", op)
    problem(
        await c.delete(
            "/api/v1/admin/grants", params={"client": "payments", "operation_id": op}, headers=ADMIN
        ),
        404,
    )
    body = problem(
        await c.post(
            "/api/v1/admin/grants",
            json={"client": "payments", "operation_id": "registry:GET /nowhere"},
            headers=ADMIN,
        ),
        422,
    )
    assert body["errors"] == {"operation_id": "unknown operation"}
    problem(
        await c.post(
            "/api/v1/admin/grants",
            json={"client": "payments", "operation_id": "garbage"},
            headers=ADMIN,
        ),
        422,
    )
    problem(
        await c.post(
            "/api/v1/admin/grants", json={"client": "nobody", "operation_id": op}, headers=ADMIN
        ),
        422,
    )
    # replace the whole set of one client
    r = await c.put(
        "/api/v1/admin/grants/payments",
        json={"operation_ids": [op, "identity:GET /persons/{iin}/family"]},
        headers=ADMIN,
    )
    assert r.status_code == 200 and r.json()["total"] == 2
    assert await reg.is_granted("payments", "identity:GET /persons/{iin}/family")
    assert not await reg.is_granted(
        "payments", "identity:GET /persons/{iin}"
    )  # a seeded one, replaced
    assert not await reg.is_granted("payments", "registry:GET /deaths")  # the other seeded one
    types = await gw.outbox_types()
    # 2 edits above, then the replacement: one added, two seeded ones removed
    assert types.count("kz.egov.gateway.grant.changed.v1") == 2 + 4


async def test_default_grants_of_a_later_release_reach_an_existing_register(gw: Gateway) -> None:
    """Restarting on an existing register grants the defaults it was never offered, and never
    re-grants one an operator revoked."""
    from sqlalchemy import delete
    from structlog.testing import capture_logs

    from egov_gateway.register.adapters.tables import grants, seeded_grants

    c, reg = gw.client, gw.register
    revoked = ("licensing", "identity:POST /ca/certificates")
    new_default = ("registry", "identity:POST /ca/certificates")
    assert await reg.is_granted(*revoked) and await reg.is_granted(*new_default)
    r = await c.delete(
        "/api/v1/admin/grants",
        params={"client": revoked[0], "operation_id": revoked[1]},
        headers=ADMIN,
    )
    assert r.status_code == 204
    engine = gw.app.state.runtime.engine

    def where(table: Any, pair: tuple[str, str]) -> Any:
        return (table.c.client == pair[0]) & (table.c.operation_id == pair[1])

    async with engine.begin() as conn:  # as if the release this register came from lacked it
        await conn.execute(delete(grants).where(where(grants, new_default)))
        await conn.execute(delete(seeded_grants).where(where(seeded_grants, new_default)))
    await reg.reload()
    assert not await reg.is_granted(*new_default)

    await reg.seed(AGENCY_HOSTS, set())  # what a restart on the upgraded release does
    await reg.reload()
    assert await reg.is_granted(*new_default)
    assert not await reg.is_granted(*revoked)  # the operator's revocation stands

    # a register from before the ledger: it cannot tell revoked from new, so it grants nothing
    # and names what is missing
    async with engine.begin() as conn:
        await conn.execute(delete(seeded_grants))
        await conn.execute(delete(grants).where(where(grants, new_default)))
    with capture_logs() as logs:
        await reg.seed(AGENCY_HOSTS, set())
    await reg.reload()
    assert not await reg.is_granted(*new_default) and not await reg.is_granted(*revoked)
    warned = [e for e in logs if e["event"] == "register.default_grants_missing"]
    assert len(warned) == 1
    assert set(warned[0]["grants"]) == {f"{c} → {o}" for c, o in (revoked, new_default)}
    async with engine.connect() as conn:  # from now on the ledger knows every default
        ledger = {
            tuple(r)
            for r in (
                await conn.execute(select(seeded_grants.c.client, seeded_grants.c.operation_id))
            ).all()
        }
    assert revoked in ledger and new_default in ledger
    await reg.seed(AGENCY_HOSTS, set())
    await reg.reload()
    assert not await reg.is_granted(*new_default)


async def test_a_later_release_updates_the_services_nobody_edited(gw: Gateway) -> None:
    """A seeded service the new release defines differently is replaced if it is still what
    the seed last wrote; an operator's edit stands; a register from before the ledger keeps
    what it has and says which services differ."""
    from dataclasses import replace

    from sqlalchemy import delete, update
    from structlog.testing import capture_logs

    from egov_gateway.register.adapters.repository import service_digest
    from egov_gateway.register.adapters.tables import seeded_services
    from egov_gateway.register.domain.model import Localized
    from egov_gateway.register.seed import seed_services

    reg = gw.register
    engine = gw.app.state.runtime.engine
    seeded = {s.code: s for s in seed_services()}
    with capture_logs() as logs:  # a restart on the same release changes nothing
        await reg.seed(AGENCY_HOSTS, set())
    assert not [e for e in logs if e["event"].startswith("register.default_services")]
    async with engine.connect() as conn:
        ledger = dict(
            (await conn.execute(select(seeded_services.c.code, seeded_services.c.digest))).all()
        )
    assert ledger == {code: service_digest(s) for code, s in seeded.items()}

    def older(code: str) -> Any:
        s = seeded[code]
        return replace(s, name=Localized(s.name.kk, s.name.ru, s.name.en + " (2025 edition)"))

    # the register was seeded by an older release: cx-buy-home as it defined it
    old = older("cx-buy-home")
    await reg.put_service(old)
    async with engine.begin() as conn:
        await conn.execute(
            update(seeded_services)
            .where(seeded_services.c.code == old.code)
            .values(digest=service_digest(old))
        )
    # … and an operator renamed rg-birth-certificate themselves
    edited = older("rg-birth-certificate")
    await reg.put_service(edited)
    outbox_before = len(await gw.outbox_types())
    with capture_logs() as logs:
        await reg.seed(AGENCY_HOSTS, set())
    await reg.reload()  # (what start() does after seeding)
    assert (await reg.service("cx-buy-home")) == seeded["cx-buy-home"]  # the new definition
    assert (await reg.service("rg-birth-certificate")) == edited  # the operator's stands
    events = {e["event"]: e for e in logs}
    assert events["register.default_services_updated"]["services"] == ["cx-buy-home"]
    assert events["register.edited_services_kept"]["services"] == ["rg-birth-certificate"]
    types = await gw.outbox_types()
    assert types[outbox_before:] == ["kz.egov.gateway.public_service.changed.v1"]

    # a register from before the ledger: nothing replaced, the difference named
    async with engine.begin() as conn:
        await conn.execute(delete(seeded_services))
    await reg.put_service(old)
    with capture_logs() as logs:
        await reg.seed(AGENCY_HOSTS, set())
    await reg.reload()  # (what start() does after seeding)
    assert (await reg.service("cx-buy-home")) == old
    warned = [e for e in logs if e["event"] == "register.default_services_differ"]
    assert len(warned) == 1
    assert set(warned[0]["services"]) == {"cx-buy-home", "rg-birth-certificate"}


async def test_operators_edit_services(gw: Gateway) -> None:
    c = gw.client
    service = {
        "agency": "registry",
        "kind": "simple",
        "names": {
            "kk": "Некеге тұру туралы анықтама",
            "ru": "Справка о регистрации брака",
            "en": "Marriage record certificate",
        },
        "descriptions": {
            "kk": "Неке туралы акт жазбасынан үзінді.",
            "ru": "Выписка из актовой записи о браке.",
            "en": "Extract from the marriage record.",
        },
        "operations": ["registry:POST /certificates", "registry:GET /certificates/{number}"],
        "input_schema": {"type": "object", "properties": {"spouse_iin": {"type": "string"}}},
        "fee_tiyn": 0,
        "sla": {"amount": 1, "unit": "working_days"},
        "channels": ["portal", "mobile"],
    }
    r = await c.put("/api/v1/admin/services/rg-marriage-certificate", json=service, headers=ADMIN)
    assert r.status_code == 201, r.text
    r = await c.get("/api/v1/services", params={"q": "некеге"})
    assert [s["code"] for s in r.json()["items"]] == ["rg-marriage-certificate"]
    r = await c.put(
        "/api/v1/admin/services/rg-marriage-certificate",
        json={**service, "status": "withdrawn"},
        headers=ADMIN,
    )
    assert r.status_code == 200
    r = await c.get("/api/v1/services", params={"q": "некеге"})
    assert r.json()["total"] == 0
    bad = problem(
        await c.put(
            "/api/v1/admin/services/rg-bad",
            json={
                **service,
                "operations": ["registry:GET /marriages/{id}"],
                "input_schema": {"type": "wat"},
                "channels": ["fax"],
            },
            headers=ADMIN,
        ),
        422,
    )
    assert set(bad["errors"]) >= {"operations.0", "input_schema", "channels"}
    composite = {
        **service,
        "kind": "composite",
        "operations": [],
        "steps": [
            {
                "name": "issue",
                "operation": "registry:POST /certificates",
                "input": {"body": {"kind": "marriage", "iin": "$.applicant"}},
            },
            {
                "name": "read",
                "operation": "registry:GET /certificates/{number}",
                "input": {"path": {"number": "$.steps.issue.result.number"}},
            },
        ],
    }
    r = await c.put("/api/v1/admin/services/cx-marriage", json=composite, headers=ADMIN)
    assert r.status_code == 201, r.text
    assert [o["operation_id"] for o in r.json()["operations"]] == [
        "registry:POST /certificates",
        "registry:GET /certificates/{number}",
    ]
    composite["steps"][1]["input"] = {"path": {"number": "$.steps.nope.result.number"}}  # type: ignore[index]
    bad = problem(
        await c.put("/api/v1/admin/services/cx-marriage", json=composite, headers=ADMIN), 422
    )
    assert "steps.1.input" in bad["errors"]
    assert (await gw.outbox_types()).count("kz.egov.gateway.public_service.changed.v1") == 3


async def test_what_a_client_may_call(gw: Gateway) -> None:
    c = gw.client
    r = await c.get("/api/v1/clients/licensing/operations")
    ops = {o["operation_id"]: o for o in r.json()["items"]}
    assert ops["registry:GET /legal-entities/{bin}"]["via"] == "grant"
    assert ops["payments:POST /invoices"]["via"] == "grant"
    assert ops["identity:POST /ca/verify"]["via"] == "public"
    assert "identity:POST /persons" not in ops
    r = await c.get("/api/v1/clients/citizen/operations")
    citizen = {o["operation_id"]: o["via"] for o in r.json()["items"]}
    assert citizen["identity:GET /persons/{iin}"] == "citizen-facing"
    assert citizen["registry:POST /births"] == "citizen-facing"
    assert "identity:POST /persons" not in citizen and "registry:GET /legal-entities" not in citizen
    problem(await c.get("/api/v1/clients/nobody/operations"), 404)


# -- GovStack directory services -------------------------------------------------------------
# The component schemas of GovStack_IM_Directory_Services_API.yaml (bb-information-mediator),
# tightened: every property we answer is required and nothing else is allowed.
_STR = {"type": "string"}
REST_CLIENT_DETAILS_LIST = {
    "type": "object",
    "required": ["member"],
    "additionalProperties": False,
    "properties": {
        "member": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "id"],
                "additionalProperties": False,
                "properties": {
                    "name": _STR,
                    "id": {
                        "type": "object",
                        "required": ["objectType", "instanceId", "memberClass", "memberCode"],
                        "additionalProperties": False,
                        "properties": {
                            "objectType": {
                                "type": "string",
                                "enum": ["MEMBER", "APPLICATION", "SERVICE"],
                            },
                            "instanceId": _STR,
                            "memberClass": _STR,
                            "memberCode": _STR,
                            "applicationCode": _STR,
                        },
                    },
                },
            },
        }
    },
}
REST_SERVICE_DETAILS_LIST = {
    "type": "object",
    "required": ["member"],
    "additionalProperties": False,
    "properties": {
        "member": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "objectType",
                    "serviceType",
                    "instanceId",
                    "memberClass",
                    "memberCode",
                    "applicationCode",
                    "serviceCode",
                    "serviceVersion",
                    "endpointList",
                ],
                "properties": {
                    "objectType": {"type": "string", "enum": ["MEMBER", "APPLICATION", "SERVICE"]},
                    "serviceType": _STR,
                    "instanceId": _STR,
                    "memberClass": _STR,
                    "memberCode": _STR,
                    "applicationCode": _STR,
                    "serviceCode": _STR,
                    "serviceVersion": _STR,
                    "endpointList": {
                        "type": "object",
                        "required": ["member"],
                        "additionalProperties": False,
                        "properties": {
                            "member": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["method", "path"],
                                    "additionalProperties": False,
                                    "properties": {"method": _STR, "path": _STR},
                                },
                            }
                        },
                    },
                },
            },
        }
    },
}


def valid(schema: dict[str, Any], body: Any) -> None:
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, [e.message for e in errors[:5]]


async def test_govstack_directory_services_shapes(gw: Gateway) -> None:
    c, snap = gw.client, gw.register.snapshot
    registry = snap.members["registry"]
    base = f"/r1/KZ/GOV/{registry.member_code}/registry"

    r = await c.get("/r1/listClients")
    assert r.status_code == 200
    valid(REST_CLIENT_DETAILS_LIST, r.json())
    ids = [m["id"] for m in r.json()["member"]]
    assert {
        "objectType": "APPLICATION",
        "instanceId": "KZ",
        "memberClass": "GOV",
        "memberCode": registry.member_code,
        "applicationCode": "registry",
    } in ids
    assert {
        "objectType": "MEMBER",
        "instanceId": "KZ",
        "memberClass": "GOV",
        "memberCode": registry.member_code,
    } in ids
    assert (await c.get("/r1/listClients", params={"instanceId": "EE"})).json() == {"member": []}

    r = await c.get(f"{base}/listMethods")
    assert r.status_code == 200
    valid(REST_SERVICE_DETAILS_LIST, r.json())
    services = {s["serviceCode"]: s for s in r.json()["member"]}
    births = services["rg-birth-registration"]["endpointList"]["member"]
    assert {"method": "POST", "path": "/births"} in births
    assert (
        services["api"]["objectType"] == "SERVICE"
        and len(services["api"]["endpointList"]["member"]) >= 17
    )
    r = await c.get(f"{base}/listMethods", params={"serviceId": "rg-birth-registration"})
    assert [s["serviceCode"] for s in r.json()["member"]] == ["rg-birth-registration"]

    identity = snap.members["identity"]
    r = await c.get(
        f"/r1/KZ/GOV/{identity.member_code}/identity/allowedMethods",
        headers={"X-GovStack-Client": f"KZ/GOV/{registry.member_code}/registry"},
    )
    assert r.status_code == 200
    valid(REST_SERVICE_DETAILS_LIST, r.json())
    allowed = {
        (e["method"], e["path"]) for s in r.json()["member"] for e in s["endpointList"]["member"]
    }
    assert ("POST", "/persons") in allowed and ("POST", "/ca/verify") in allowed
    # registry's signing key is certified by the national CA; revoking is the CA's business
    assert ("POST", "/ca/certificates") in allowed
    assert ("POST", "/ca/certificates/{serial}/revoke") not in allowed
    r2 = await c.get(
        f"/r1/KZ/GOV/{identity.member_code}/identity/allowedMethods",
        headers={"X-Road-Client": "registry"},
    )
    assert r2.json() == r.json()
    problem(await c.get(f"/r1/KZ/GOV/{identity.member_code}/identity/allowedMethods"), 400)
    problem(
        await c.get(
            f"/r1/KZ/GOV/{identity.member_code}/identity/allowedMethods",
            headers={"X-GovStack-Client": "KZ/GOV/1/x"},
        ),
        400,
    )
    problem(await c.get(f"/r1/KZ/GOV/{identity.member_code}/registry/listMethods"), 400)
    problem(await c.get(f"{base}/getOpenAPI"), 400)


# -- OpenAPI documents: fetch, refresh, keep the last good one -------------------------------
def contract_double(paths: dict[str, list[str]], title: str) -> FastAPI:
    """A tiny agency publishing just these operations (and a ready probe)."""
    app = FastAPI(title=title)
    for path, methods in paths.items():

        async def handler() -> dict[str, str]:
            return {}

        app.add_api_route(path, handler, methods=methods, summary=f"{methods[0]} {path}")

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "up"}

    return app


async def test_openapi_fetch_refresh_and_keep_last_on_failure(gw: Gateway, tmp_path: Path) -> None:
    c, reg = gw.client, gw.register
    # a real agency app (its skeleton's OpenAPI) for identity
    identity_app = build_app("identity", tmp_path / "identity", kafka_enabled=False)
    async with running(identity_app):
        gw.agencies.serve("identity", identity_app)
        registry_v1 = contract_double(
            {"/births": ["POST"], "/births/{act_number}": ["GET"]}, "registry v1"
        )
        gw.agencies.serve("registry", registry_v1)
        problem(await c.get("/api/v1/agencies/registry/openapi"), 503)

        results = {r.agency: r for r in await reg.refresh_openapi()}
        assert results["identity"].ok and results["registry"].ok
        assert not results["licensing"].ok and "ConnectError" in (results["licensing"].error or "")
        r = await c.get("/api/v1/agencies/identity/openapi")
        assert r.status_code == 200 and r.json()["info"]["title"] == identity_app.title
        assert "/health/ready" in r.json()["paths"] and r.headers["etag"]
        r = await c.get("/api/v1/agencies/registry/openapi")
        assert set(r.json()["paths"]) == {"/births", "/births/{act_number}", "/health/ready"}

        health = (await c.get("/api/v1/register/health")).json()
        by_agency = {m["agency"]: m for m in health["members"]}
        assert not health["ok"]
        assert "registry:POST /legal-entities" in by_agency["registry"]["unmapped_operations"]
        assert "registry:POST /births" not in by_agency["registry"]["unmapped_operations"]
        assert (
            by_agency["licensing"]["document_fetched_at"] is None
            and by_agency["licensing"]["last_error"]
        )

        # the agency publishes a new operation: a refresh makes it routable at once
        gw.agencies.serve(
            "registry",
            contract_double(
                {
                    "/births": ["POST"],
                    "/births/{act_number}": ["GET"],
                    "/marriages/{act_number}": ["GET"],
                },
                "registry v2",
            ),
        )
        assert await reg.resolve("registry", "GET", "/marriages/AZ-1", {}) is None
        gw.now[0] += timedelta(minutes=5)
        r = await c.post("/api/v1/admin/members/registry/refresh", headers=ADMIN)
        assert r.status_code == 200 and r.json()["ok"] and r.json()["changed"]
        hit = await reg.resolve("registry", "GET", "/marriages/AZ-1", {})
        assert (
            hit is not None
            and hit.path_params == {"act_number": "AZ-1"}
            and hit.service_code is None
        )

        # the agency goes away: its last document stays, the failure is reported
        gw.agencies.down.add("registry.test")
        gw.now[0] += timedelta(minutes=5)
        r = await c.post("/api/v1/admin/members/registry/refresh", headers=ADMIN)
        assert r.json()["ok"] is False and "ConnectError" in r.json()["error"]
        r = await c.get("/api/v1/agencies/registry/openapi")
        assert r.status_code == 200 and r.json()["info"]["title"] == "registry v2"
        assert await reg.resolve("registry", "GET", "/marriages/AZ-1", {}) is not None
        m = {x["agency"]: x for x in (await c.get("/api/v1/register/health")).json()["members"]}[
            "registry"
        ]
        assert m["last_error"] and m["document_fetched_at"] < m["last_attempt_at"]

        # GovStack getOpenAPI: the whole API or one service's part of it
        registry = reg.snapshot.members["registry"]
        base = f"/r1/KZ/GOV/{registry.member_code}/registry/getOpenAPI"
        r = await c.get(base, params={"serviceCode": "api"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        valid({"type": "string"}, r.text)  # the spec's schema: the document's text
        assert json.loads(r.text)["info"]["title"] == "registry v2"
        r = await c.get(base, params={"serviceCode": "rg-birth-registration"})
        assert set(r.json()["paths"]) == {"/births", "/births/{act_number}"}
        problem(await c.get(base, params={"serviceCode": "nope"}), 400)  # the spec's status


async def test_documents_are_fetched_at_start_by_the_refresh_loop(
    tmp_path: Path, database_url: str | None
) -> None:
    app, agencies = gateway_app(
        tmp_path, database_url, background=True, probe_interval_s=60, openapi_retry_s=0.2
    )
    agencies.serve(
        "notary", contract_double({"/acts": ["POST"], "/public/acts/{number}": ["GET"]}, "notary")
    )
    async with running(app) as c:

        async def fetched() -> bool:
            r = await c.get("/api/v1/agencies/notary/openapi")
            return r.status_code == 200

        await eventually(fetched, within=10, what="the notary document fetched at start")
        agencies.serve("payments", contract_double({"/invoices": ["POST"]}, "payments"))

        async def retried() -> bool:
            return (await c.get("/api/v1/agencies/payments/openapi")).status_code == 200

        await eventually(retried, within=10, what="a late agency fetched on retry")


# -- outages -----------------------------------------------------------------------------------
async def test_outage_intervals_open_close_and_total(gw: Gateway) -> None:
    c, reg = gw.client, gw.register
    for a in ("identity", "registry", "licensing", "payments", "notary"):
        gw.agencies.serve(a, contract_double({}, a))
    t0 = gw.now[0]
    assert set((await reg.probe_all()).values()) == {True}

    gw.now[0] = t0 + timedelta(minutes=10)
    gw.agencies.down.add("payments.test")
    assert (await reg.probe_all())["payments"] is False
    r = await c.get(
        "/api/v1/outages",
        params={"from": t0.isoformat(), "to": (t0 + timedelta(hours=1)).isoformat()},
    )
    body = r.json()
    assert [a["agency"] for a in body["agencies"]] == ["payments"]
    open_iv = body["agencies"][0]["intervals"][0]
    assert open_iv["ended_at"] is None and "unreachable" in open_iv["reason"]
    assert body["agencies"][0]["total_seconds"] == 0  # "now" is the moment it opened

    gw.now[0] = t0 + timedelta(minutes=25)
    await reg.probe_all()  # still down: nothing new opens
    gw.agencies.down.clear()
    assert (await reg.probe_all())["payments"] is True  # back: the interval closes
    r = await c.get(
        "/api/v1/outages",
        params={"from": t0.isoformat(), "to": (t0 + timedelta(hours=1)).isoformat()},
    )
    body = r.json()
    assert body["total_seconds"] == 15 * 60
    pay = body["agencies"][0]
    assert pay["total_seconds"] == 15 * 60 and pay["intervals"][0]["ended_at"] is not None
    services = {s["service_code"]: s["total_seconds"] for s in body["services"]}
    assert services["pm-state-duty-payment"] == 15 * 60
    assert services["cx-birth-of-child"] == 15 * 60  # a composite depends on payments too
    assert "rg-llp-registration" not in services

    # clipped to the period; filters by agency and service
    r = await c.get(
        "/api/v1/outages",
        params={
            "from": (t0 + timedelta(minutes=20)).isoformat(),
            "to": (t0 + timedelta(hours=1)).isoformat(),
            "service": "pm-birth-allowance",
        },
    )
    body = r.json()
    assert body["agencies"][0]["total_seconds"] == 5 * 60
    assert [s["service_code"] for s in body["services"]] == ["pm-birth-allowance"]
    r = await c.get(
        "/api/v1/outages",
        params={
            "from": t0.isoformat(),
            "to": (t0 + timedelta(hours=1)).isoformat(),
            "agency": "registry",
        },
    )
    assert r.json()["agencies"] == [] and r.json()["total_seconds"] == 0
    problem(
        await c.get("/api/v1/outages", params={"from": t0.isoformat(), "to": t0.isoformat()}), 422
    )
