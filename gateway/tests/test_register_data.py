"""The register's seed is data (shared/meshkit/reference/register/*.yaml, validated by
egov_gateway/register/seed_data.py): the files load, a malformed one is refused naming the file,
the service and the field, every stored form is self-contained, and a register seeded by an
earlier release withdraws the services the data no longer lists (once; an operator's edit
stands)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import select
from structlog.testing import capture_logs

from egov_gateway.bootstrap import components_of
from egov_gateway.register.adapters.repository import service_digest
from egov_gateway.register.seed import (
    CONTRACT_OPERATIONS,
    LICENSING_TYPES,
    MRP_TIYN,
    composite_services,
    seed_services,
)
from egov_gateway.register.seed_data import (
    AGENCIES,
    RegisterDataError,
    load_register_data,
    register_data,
)
from egov_gateway.register.service_layer.register import UnifiedRegister
from meshkit.messaging.tables import outbox_journal
from meshkit_testing.apps import running
from meshkit_testing.services import build_app

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

DATA = Path(str(files("meshkit.reference").joinpath("register")))


# -- the files ----------------------------------------------------------------------------------
def test_the_files_load_and_are_what_the_seed_serves() -> None:
    data = register_data()
    assert register_data() is data  # read once
    services = seed_services()
    codes = [s.code for s in services]
    assert len(codes) == len(set(codes)) >= 60
    assert {s.agency for s in services} == set(AGENCIES)
    assert [s.code for s in composite_services()] == [s.code for s in data.composites.services]
    assert {f"lc-license-{c}" for c in LICENSING_TYPES} <= set(codes)
    # each file owns its prefix
    for s in services:
        prefix = {"simple": s.code[:3], "composite": "cx-"}[s.kind]
        assert s.code.startswith(prefix)
    # fees: MRP multiples of the seeding day (6.5 MRP, 0.15 MRP …)
    fees = {s.code: s.fee_tiyn for s in services}
    assert fees["rg-llp-registration"] == 26 * MRP_TIYN // 4
    assert fees["rg-property-rights-certificate"] == MRP_TIYN * 15 // 100
    assert fees["cx-buy-home"] == MRP_TIYN
    assert fees["id-personal-data"] == 0


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [
            *(["$ref"] if "$ref" in value else []),
            *(r for v in value.values() for r in _refs(v)),
        ]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_every_form_is_self_contained_and_every_step_a_contract_operation() -> None:
    for s in seed_services():
        assert not _refs(s.input_schema), s.code  # fragments inlined
        Draft202012Validator.check_schema(s.input_schema)
        assert s.input_schema["type"] == "object"
        assert s.input_schema["additionalProperties"] is False
        for op in s.operations:
            assert op.path in [o.split(" ", 1)[1] for o in CONTRACT_OPERATIONS[op.agency]], op.id
        for step in s.steps:
            for op in filter(None, (step.operation, step.compensation)):
                assert f"{op.method} {op.path}" in CONTRACT_OPERATIONS[op.agency], (s.code, op)
    # two services never share a schema object (an edit of one form cannot leak to another)
    a, b = (s for s in seed_services() if s.code in ("id-personal-data", "id-address-certificate"))
    a.input_schema["properties"]["iin"]["maxLength"] = 1
    assert "maxLength" not in b.input_schema["properties"]["iin"]
    again = next(s for s in seed_services() if s.code == "id-personal-data")
    assert "maxLength" not in again.input_schema["properties"]["iin"]


# -- malformed files are refused, naming the file, the service and the field --------------------
def _broken(tmp_path: Path, name: str, change: Callable[[dict[str, Any]], None]) -> str:
    shutil.copytree(DATA, tmp_path / "register")
    path = tmp_path / "register" / name
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(RegisterDataError) as exc:
        load_register_data(tmp_path / "register")
    return str(exc.value)


def _service(doc: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in doc["services"] if s["code"] == code)


def test_a_copy_of_the_files_loads(tmp_path: Path) -> None:
    shutil.copytree(DATA, tmp_path / "register")
    data = load_register_data(tmp_path / "register")
    assert [s.code for s in data.simple_services(MRP_TIYN)] == [
        s.code for s in seed_services() if s.kind == "simple"
    ]


def test_an_extra_field_is_refused(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        _service(doc, "id-address-certificate")["fee_tiyn"] = 100

    msg = _broken(tmp_path, "identity.yaml", change)
    assert msg.startswith("register/identity.yaml: service id-address-certificate: fee_tiyn")
    assert "Extra inputs are not permitted" in msg


def test_a_missing_kazakh_text_is_refused(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        del _service(doc, "rg-birth-certificate")["name"]["kk"]

    msg = _broken(tmp_path, "registry.yaml", change)
    assert "register/registry.yaml: service rg-birth-certificate: name.kk: Field required" in msg


def test_a_blank_text_is_refused(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        _service(doc, "nt-notary-search")["description"]["ru"] = "  "

    msg = _broken(tmp_path, "notary.yaml", change)
    assert "service nt-notary-search: description.ru: the text is blank" in msg


def test_a_step_naming_a_field_the_form_lacks_is_refused(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        _service(doc, "id-personal-data-change")["step"]["input"]["body"]["address"] = (
            "$.payload.adress"
        )

    msg = _broken(tmp_path, "identity.yaml", change)
    assert "service id-personal-data-change: step.input.body.address: $.payload.adress" in msg
    assert "names no field of the form (['address'])" in msg


def test_a_composite_step_naming_a_field_the_form_lacks_is_refused(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        del _service(doc, "cx-death-of-relative")["form"]["properties"]["place"]
        _service(doc, "cx-death-of-relative")["form"]["required"].remove("place")

    msg = _broken(tmp_path, "composites.yaml", change)
    assert "service cx-death-of-relative: steps.0.input.body.place: $.payload.place" in msg


def test_an_operation_the_agency_does_not_offer_is_refused(tmp_path: Path) -> None:
    def simple(doc: dict[str, Any]) -> None:
        _service(doc, "pm-payout-status")["operations"] = ["GET /payouts/{id}/status"]

    msg = _broken(tmp_path, "payments.yaml", simple)
    assert "service pm-payout-status: operations.0: 'GET /payouts/{id}/status' is not a " in msg

    def composite(doc: dict[str, Any]) -> None:
        _service(doc, "cx-birth-of-child")["steps"][1]["operation"] = "identity:GET /people/{iin}"

    msg = _broken(tmp_path / "c", "composites.yaml", composite)
    assert "service cx-birth-of-child: steps.1.operation: 'identity:GET /people/{iin}' is " in msg
    assert "not a contract operation of 'identity'" in msg


def test_bad_enums_refs_events_and_codes_are_refused(tmp_path: Path) -> None:
    def channel(doc: dict[str, Any]) -> None:
        _service(doc, "lc-license-info")["channels"] = ["portal", "fax"]

    assert "service lc-license-info: channels.1: Input should be" in _broken(
        tmp_path / "a", "licensing.yaml", channel
    )

    def ref(doc: dict[str, Any]) -> None:
        _service(doc, "id-person-search")["form"]["properties"]["surname"] = {"$ref": "surname"}

    assert "service id-person-search: form.properties.surname: $ref 'surname': no such" in (
        _broken(tmp_path / "b", "identity.yaml", ref)
    )

    def event(doc: dict[str, Any]) -> None:
        _service(doc, "cx-birth-of-child")["steps"][0]["completes_on"] = "kz.egov.registry.born.v1"

    assert "steps.0.completes_on: 'kz.egov.registry.born.v1' is not a known event type" in (
        _broken(tmp_path / "c", "composites.yaml", event)
    )

    def expression(doc: dict[str, Any]) -> None:
        _service(doc, "cx-death-of-relative")["steps"][1]["input"]["body"]["kind"] = "$.kind"

    assert "service cx-death-of-relative: steps.1.input.body.kind: $.kind is not $.payload." in (
        _broken(tmp_path / "h", "composites.yaml", expression)
    )

    def prefix(doc: dict[str, Any]) -> None:
        _service(doc, "nt-act-verify")["code"] = "rg-act-verify"

    assert "register/notary.yaml: service rg-act-verify: code: must start with 'nt-'" in (
        _broken(tmp_path / "d", "notary.yaml", prefix)
    )

    def licence(doc: dict[str, Any]) -> None:
        doc["licences"]["types"]["design"] = {"type": "DESIGN", "details": {}}

    assert "licences.types.design.type: there is no licence type 'DESIGN'" in (
        _broken(tmp_path / "e", "licensing.yaml", licence)
    )

    def grant(doc: dict[str, Any]) -> None:
        doc["grants"]["notary"].append("registry:DELETE /properties")

    assert "register/gateway.yaml: grants.notary." in _broken(tmp_path / "f", "gateway.yaml", grant)

    def fee(doc: dict[str, Any]) -> None:
        _service(doc, "nt-poa-revocation")["fee_mrp"] = 0.125

    assert "service nt-poa-revocation: fee_mrp: Decimal input should have no more than 2" in (
        _broken(tmp_path / "g", "notary.yaml", fee)
    )


# -- an existing register withdraws what the data no longer lists -------------------------------
AGENCY_HOSTS = {a: f"http://{a}.test:80" for a in AGENCIES}


@pytest.fixture
async def register(tmp_path: Path, database_url: str | None) -> AsyncIterator[UnifiedRegister]:
    app = build_app(
        "gateway",
        tmp_path,
        kafka_enabled=False,
        database_url=database_url,
        admin_token="test-admin-token-9f1c",
        agency_urls=AGENCY_HOSTS,
        register_options={"background": False},
    )
    async with running(app):
        reg: UnifiedRegister = components_of(app).register
        reg.clock = lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        yield reg


async def test_a_seed_service_the_data_dropped_is_withdrawn_once(
    register: UnifiedRegister,
) -> None:
    reg = register
    construction = next(s for s in seed_services() if s.code == "lc-license-construction")

    def earlier(kind: str) -> Any:
        code = f"lc-license-{kind}"
        schema = {**construction.input_schema}
        schema["properties"] = {**schema["properties"], "license_type": {"const": kind}}
        return replace(construction, code=code, input_schema=schema)

    # an earlier release seeded lc-license-design and lc-license-transport (E-Licensing has no
    # such types); an operator has since edited lc-license-transport
    design, transport = earlier("design"), earlier("transport")
    await reg.put_service(design)
    await reg.put_service(transport)
    edited = replace(transport, sla=replace(transport.sla, amount=20))
    await reg.put_service(edited)
    async with reg._uow() as uow:  # what the earlier seed wrote in its ledger
        await uow.register.record_seeded_service(design.code, service_digest(design), reg.clock())
        await uow.register.record_seeded_service(
            transport.code, service_digest(transport), reg.clock()
        )
        await uow.commit()
    outbox_before = await _outbox(reg)

    with capture_logs() as logs:
        await reg.seed(AGENCY_HOSTS, set())
    await reg.reload()
    assert (await reg.service("lc-license-design")).status == "withdrawn"
    assert (await reg.service("lc-license-transport")) == edited  # the operator's stands
    withdrawn = [e for e in logs if e["event"] == "register.default_services_withdrawn"]
    assert [e["services"] for e in withdrawn] == [["lc-license-design"]]
    assert (await _outbox(reg))[len(outbox_before) :] == [
        "kz.egov.gateway.public_service.changed.v1"
    ]
    found, _ = await reg.search(
        q="lc-license-design", agency=None, kind=None, citizen_facing=None, limit=100, offset=0
    )
    assert "lc-license-design" not in {s.code for s in found}  # (other licences do match)

    # once: a restart changes nothing, and an operator who brings it back is not overruled
    with capture_logs() as logs:
        await reg.seed(AGENCY_HOSTS, set())
    assert not [e for e in logs if e["event"] == "register.default_services_withdrawn"]
    await reg.put_service(design)
    await reg.seed(AGENCY_HOSTS, set())
    await reg.reload()
    assert (await reg.service("lc-license-design")).status == "active"


async def _outbox(reg: UnifiedRegister) -> list[str]:
    async with reg._uow() as uow:
        rows = await uow.register.session.execute(
            select(journal.c.event_type).order_by(journal.c.id)
        )
        return [r[0] for r in rows]
