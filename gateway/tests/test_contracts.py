"""Issue 17: the register keeps the agencies' contracts.

* Every simple service of the seeded register, its form mapped onto its operation, fits the
  request the LIVE agency publishes (the five agencies built in process, their
  ``/openapi.json``) — a drift fails here naming the service and the field.
* The check's rules on small cases (enum ⊆ agency enum, required fields produced, no field the
  agency forbids, lengths, pending without a document).
* Publishing (admin API) refuses a drifted service with field errors; a service stored before
  its agency's document arrived is checked when it does (``/api/v1/register/health``).
* Submission: the payload against the form (IIN/BIN check digits) and against the agency's
  request after the mapping — 422 with ``payload.<field>`` at once, not a failed application.
Gateway tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from egov_gateway.bootstrap import components_of, overrides_of
from egov_gateway.register.domain.contracts import (
    request_contract,
    service_contract_errors,
    submission_errors,
)
from egov_gateway.register.domain.model import (
    CompositeStep,
    Localized,
    OperationKey,
    PublicService,
    SlaTerm,
)
from egov_gateway.register.seed import seed_services
from egov_gateway.register.service_layer.register import UnifiedRegister
from egov_gateway.singlewindow.applications.service_layer.service import validate_payload
from meshkit.errors import RuleViolation
from meshkit_testing.apps import running
from meshkit_testing.gateway import ISSUER, TestIdentity
from meshkit_testing.services import build_app

AGENCIES = ("identity", "registry", "licensing", "payments", "notary")
TOKEN = "test-admin-token-contracts"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
MOTHER = "920308400210"
FATHER = "900115300122"


def agency_apps(tmp: Path) -> dict[str, FastAPI]:
    return {a: build_app(a, tmp / a, kafka_enabled=False) for a in AGENCIES}


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The agencies' OpenAPI documents as they publish them (``GET /openapi.json``)."""
    import asyncio

    async def fetch() -> dict[str, dict[str, Any]]:
        out = {}
        for code, app in agency_apps(tmp_path_factory.mktemp("agencies")).items():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://a") as c:
                r = await c.get("/openapi.json")
                assert r.status_code == 200, (code, r.text[:200])
                out[code] = r.json()
        return out

    return asyncio.run(fetch())


# -- every seeded service against the live agencies ---------------------------------------------
def test_every_seeded_simple_service_fits_its_agencys_published_request(
    documents: dict[str, dict[str, Any]],
) -> None:
    drift: dict[str, dict[str, str]] = {}
    checked = 0
    for service in seed_services():
        errors = service_contract_errors(service, documents)
        assert errors is not None, f"{service.code}: no document for {service.agency}"
        if service.kind == "simple":
            checked += 1
        if errors:
            drift[service.code] = errors
    assert checked >= 60
    assert not drift, "contract drift (service → field → what differs):\n" + json.dumps(
        drift, indent=1, ensure_ascii=False
    )


def _license(form: dict[str, Any], body: dict[str, Any] | None = None) -> PublicService:
    return PublicService(
        code="lc-test",
        agency="licensing",
        kind="simple",
        steps=[CompositeStep("run", OperationKey.of("licensing", "POST /applications"), body)]
        if body is not None
        else [],
        name=Localized("a", "a", "a"),
        description=Localized("a", "a", "a"),
        operations=[OperationKey.of("licensing", "POST /applications")],
        input_schema=form,
        fee_tiyn=0,
        sla=SlaTerm(1, "working_days"),
        channels=["portal"],
        citizen_facing=True,
        public=False,
        subject_param=None,
        recipients=["legal_entity"],
    )


def _form(required: list[str], **props: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": props,
        "additionalProperties": False,
    }


BIN = {"type": "string", "pattern": "^[0-9]{12}$", "format": "bin"}


def test_the_check_names_the_field_and_what_differs(documents: dict[str, Any]) -> None:
    # the issue's drift: lower-case licence types, no applicant
    drifted = _license(
        _form(
            ["applicant_bin", "license_type"],
            applicant_bin=BIN,
            license_type={"const": "pharmacy"},
            colour={"type": "string"},
        )
    )
    errors = service_contract_errors(drifted, documents)
    assert errors is not None
    # (E-Licensing's type codes: upper case, ``^[A-Z][A-Z0-9_]{1,39}$``)
    assert "'pharmacy'" in errors["input_schema.license_type"]
    assert "[A-Z]" in errors["input_schema.license_type"]
    assert errors["steps.run.body.applicant_iin"].startswith("the agency requires it")
    assert "ignored" in errors["input_schema.colour"]  # licensing ignores unknown fields
    # enum ⊆ the agency's enum; a field the agency requires may not be optional in the form
    loose = _license(
        _form(["applicant_bin"], applicant_bin=BIN, license_type={"type": "string"}),
        {
            "body": {
                "license_type": "$.payload.license_type",
                "applicant_iin": "$.applicant",
                "applicant_bin": "$.payload.applicant_bin",
                "details": {},
            }
        },
    )
    errors = service_contract_errors(loose, documents)
    assert errors is not None
    assert "pattern" in errors["input_schema.license_type"]
    fitting = _license(
        _form(
            ["applicant_bin", "license_type"],
            applicant_bin=BIN,
            license_type={"enum": ["PHARMACY", "TOUR_OPERATOR"]},
        ),
        {
            "body": {
                "license_type": "$.payload.license_type",
                "applicant_iin": "$.applicant",
                "applicant_bin": "$.payload.applicant_bin",
                "details": {},
            }
        },
    )
    assert service_contract_errors(fitting, documents) == {}
    # no document yet: the check is pending, not passed
    assert service_contract_errors(fitting, {}) is None
    # a literal the agency refuses
    literal = _license(
        _form(["applicant_bin"], applicant_bin=BIN),
        {
            "body": {
                "license_type": "design",
                "applicant_iin": "$.applicant",
                "applicant_bin": "$.payload.applicant_bin",
                "details": {},
            }
        },
    )
    errors = service_contract_errors(literal, documents)
    assert errors is not None and "'design'" in errors["steps.run.body.license_type"]


def test_lengths_and_published_parameter_names(documents: dict[str, Any]) -> None:
    seeded = {s.code: s for s in seed_services()}
    # the registry publishes /legal-entities/{bin}: the BIN's 12 digits fit
    contract = request_contract(documents["registry"], "GET", "/legal-entities/{x}")
    assert contract is not None and set(contract.path) == {"x"}
    long_name = seeded["rg-birth-registration"]
    form = json.loads(json.dumps(long_name.input_schema))
    form["properties"]["surname"] = {"type": "string", "minLength": 1, "maxLength": 300}
    from dataclasses import replace

    errors = service_contract_errors(replace(long_name, input_schema=form), documents)
    assert errors is not None and "at most 100" in errors["input_schema.surname"]


# -- submission -------------------------------------------------------------------------------------
def test_the_form_checks_iin_and_bin_check_digits() -> None:
    seeded = {s.code: s for s in seed_services()}
    schema = seeded["pm-birth-allowance"].input_schema
    validate_payload(schema, {"child_iin": FATHER})
    with pytest.raises(RuleViolation) as bad:
        validate_payload(schema, {"child_iin": FATHER[:-1] + str((int(FATHER[-1]) + 1) % 10)})
    assert set(bad.value.errors or {}) == {"payload.child_iin"}
    founders = seeded["rg-llp-registration"].input_schema
    with pytest.raises(RuleViolation) as bad:
        validate_payload(
            founders,
            {
                "name_kk": "Ақ",
                "name_ru": "Ак",
                "legal_form": "LLP",
                "director_iin": MOTHER,
                "founders": [{"id": MOTHER, "share": "1/1"}],
                "address": "Астана",
            },
        )
    assert "payload.founders.0.share" in (bad.value.errors or {})


def test_the_payload_is_checked_against_the_agencys_request(documents: dict[str, Any]) -> None:
    # a form looser than the agency (published while the agency's document was missing)
    loose = _license(
        _form(
            ["applicant_bin", "license_type", "address"],
            applicant_bin={"type": "string"},
            license_type={"type": "string"},
            address={"type": "string"},
        ),
        {
            "body": {
                "license_type": "$.payload.license_type",
                "applicant_iin": "$.applicant",
                "applicant_bin": "$.payload.applicant_bin",
                "details": {"premises_address": "$.payload.address"},
            }
        },
    )
    scope = {"payload": {}, "applicant": MOTHER, "steps": {}}
    payload = {"applicant_bin": "1" * 20, "license_type": "pharmacy", "address": "x"}
    errors = submission_errors(
        loose, payload, MOTHER, documents, scope={**scope, "payload": payload}
    )
    assert {"payload.applicant_bin", "payload.license_type"} <= set(errors), errors
    assert all(k.startswith("payload") for k in errors)
    good = {"applicant_bin": "1" * 12, "license_type": "PHARMACY", "address": "Астана"}
    assert submission_errors(loose, good, MOTHER, documents, scope={**scope, "payload": good}) == {}


# -- the gateway: publish, health, submit ----------------------------------------------------------
class Agencies(httpx.AsyncBaseTransport):
    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.apps = {f"{a}.test": httpx.ASGITransport(app=app) for a, app in apps.items()}
        self.down: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"connection refused: {host}", request=request)
        return await self.apps[host].handle_async_request(request)


@pytest.fixture
async def gateway(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    identity = TestIdentity(tmp_path)
    agencies = Agencies(agency_apps(tmp_path))
    app = build_app(
        "gateway",
        tmp_path / "gw",
        kafka_enabled=False,
        database_url=db_url,
        admin_token=TOKEN,
        identity_jwks_url=identity.jwks_url,
        identity_issuer=ISSUER,
        agency_urls={a: f"http://{a}.test:80" for a in AGENCIES},
        register_options={"background": False},
    )
    overrides_of(app).register_transport = agencies
    async with running(app) as client:
        yield client, (app, agencies, identity)


def _service_json(form: dict[str, Any]) -> dict[str, Any]:
    return {
        "agency": "licensing",
        "names": {"kk": "Тест", "ru": "Тест", "en": "Test"},
        "descriptions": {"kk": "Тест", "ru": "Тест", "en": "Test"},
        "operations": ["licensing:POST /applications"],
        "input_schema": form,
        "sla": {"amount": 1, "unit": "working_days"},
        "channels": ["portal"],
    }


async def test_publishing_refuses_drift_and_health_flags_what_was_pending(
    gateway: tuple[httpx.AsyncClient, Any],
) -> None:
    c, (app, agencies, _identity) = gateway
    register: UnifiedRegister = components_of(app).register
    drifted = _form(
        ["applicant_bin", "license_type"], applicant_bin=BIN, license_type={"const": "pharmacy"}
    )
    # licensing's document not fetched yet: the check cannot run — accepted, shown as pending
    agencies.down.add("licensing.test")
    await register.refresh_openapi()
    r = await c.put("/api/v1/admin/services/lc-test", json=_service_json(drifted), headers=ADMIN)
    assert r.status_code == 201, r.text
    health = (await c.get("/api/v1/register/health")).json()
    assert "lc-test" in health["contract_pending"] and health["ok"] is False
    # the document arrives: the drift shows, the register is not healthy
    agencies.down.clear()
    await register.refresh_openapi()
    health = (await c.get("/api/v1/register/health")).json()
    assert health["contract_pending"] == []
    drift = health["contract_drift"]
    assert set(drift) == {"lc-test"}, drift  # every seeded service fits
    assert "'pharmacy'" in drift["lc-test"]["input_schema.license_type"]
    # publishing it again is refused with field errors (RFC 9457)
    r = await c.put("/api/v1/admin/services/lc-test", json=_service_json(drifted), headers=ADMIN)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert "'pharmacy'" in errors["input_schema.license_type"]
    assert "steps.run.body.applicant_iin" in errors
    # withdrawing it is allowed (nothing runs it)
    r = await c.put(
        "/api/v1/admin/services/lc-test",
        json={**_service_json(drifted), "status": "withdrawn"},
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    health = (await c.get("/api/v1/register/health")).json()
    assert health["contract_drift"] == {} and health["ok"] is True


async def test_submission_is_refused_at_once_with_field_errors(
    gateway: tuple[httpx.AsyncClient, Any],
) -> None:
    c, (app, agencies, identity) = gateway
    register: UnifiedRegister = components_of(app).register
    citizen = identity.bearer("citizen", MOTHER)
    # a service published before licensing's document arrived, looser than licensing
    loose = _form(
        ["applicant_bin", "license_type"],
        applicant_bin={"type": "string"},
        license_type={"type": "string"},
    )
    agencies.down.add("licensing.test")
    await register.refresh_openapi()
    r = await c.put("/api/v1/admin/services/lc-loose", json=_service_json(loose), headers=ADMIN)
    assert r.status_code == 201, r.text
    agencies.down.clear()
    await register.refresh_openapi()

    async def submit(code: str, payload: dict[str, Any]) -> httpx.Response:
        return await c.post(
            "/api/v1/applications",
            json={"service_code": code, "payload": payload},
            headers=citizen,
        )

    r = await submit("lc-loose", {"applicant_bin": "1" * 40, "license_type": "pharmacy"})
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert {"payload.applicant_bin", "payload.license_type"} <= set(errors), errors
    # the form's own checks: a wrong IIN check digit, a malformed founders list
    bad_iin = FATHER[:-1] + str((int(FATHER[-1]) + 1) % 10)
    r = await submit("pm-birth-allowance", {"child_iin": bad_iin})
    assert r.status_code == 422 and set(r.json()["errors"]) == {"payload.child_iin"}
    r = await submit(
        "rg-llp-registration",
        {
            "name_kk": "Ақ",
            "name_ru": "Ак",
            "legal_form": "LLP",
            "director_iin": MOTHER,
            "founders": [{"id": MOTHER}],
            "address": "Астана",
        },
    )
    assert r.status_code == 422 and "payload.founders.0.share" in r.json()["errors"], r.text
    r = await submit("id-consent-grant", {"agency": "registry", "categories": ["everything"]})
    assert r.status_code == 422
    assert {"payload.categories.0", "payload.purpose", "payload.expires_at"} <= set(
        r.json()["errors"]
    )
    # nothing was accepted
    mine = (await c.get("/api/v1/me/applications", headers=citizen)).json()
    assert mine["items"] == []
