"""X-Road addressing is exact (issue 17) and the GovStack IM directory services follow the
spec where it is explicit — on SQLite and PostgreSQL (``db_url`` is parametrised in conftest).

The routed exchange runs against the seeded register's snapshot (its services name the
operations), with the agencies' contract doubles of the test mesh behind it.
"""

from __future__ import annotations

from typing import Any

import httpx

from egov_gateway.exchange.domain.headers import WHOLE_API, XRoadService
from egov_gateway.exchange.domain.register_port import ResolvedOperation
from egov_gateway.register.domain.catalogue import RegisterSnapshot
from egov_gateway.register.seed import AGENCIES, seed_members, seed_services
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.gateway import CITIZEN, Mesh

PURPOSE = {"X-Mesh-Purpose": "licence application 42: applicant check"}
PERSON = "identity:GET /persons/{iin}"


class SeededRegister:
    """The register port over the seeded snapshot; agencies at the mesh's doubles."""

    def __init__(self) -> None:
        urls = {a: f"http://{a}.local" for a in AGENCIES}
        self.snapshot = RegisterSnapshot(seed_members(urls), {}, seed_services(), [])
        self.grants: set[tuple[str, str]] = set()

    async def resolve(
        self, agency: str, method: str, path: str, query: dict[str, str]
    ) -> ResolvedOperation | None:
        return self.snapshot.resolve(agency, method, path, query)

    async def is_granted(self, client_agency: str, operation_id: str) -> bool:
        return (client_agency, operation_id) in self.grants

    async def agency_for_xroad(
        self, instance: str, member_class: str, member_code: str, subsystem: str
    ) -> str | None:
        return self.snapshot.agency_for_xroad(instance, member_class, member_code, subsystem)

    async def runs(self, service_code: str, operation_id: str) -> bool:
        return self.snapshot.runs(service_code, operation_id)


def seeded(mesh: Mesh) -> SeededRegister:
    register = SeededRegister()
    mesh.components.exchange.register = register
    return register


def identity_base(register: SeededRegister) -> str:
    return f"/r1/KZ/GOV/{register.snapshot.members['identity'].member_code}/identity"


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["instance"] == r.headers["x-request-id"]
    return body


# -- the routed exchange -------------------------------------------------------------------
async def test_a_service_code_that_does_not_run_the_operation_is_refused_and_audited(
    mesh: Mesh,
) -> None:
    register = seeded(mesh)
    register.grants.add(("licensing", PERSON))
    base = identity_base(register)
    # a real public service of identity, but not one that reads a person
    r = await mesh.gateway.get(
        f"{base}/id-family-composition/persons/{CITIZEN}",
        headers={**mesh.agency("licensing"), **PURPOSE, "X-Road-Id": "xr-wrong-service"},
    )
    body = problem(r, 404)
    assert body["type"].endswith("/unknown-service")
    assert "id-family-composition does not run GET /persons/{iin}" in body["detail"]
    assert r.headers["x-road-error"] == "Client.unknown-service"
    assert r.headers["x-road-service"].endswith("/identity/id-family-composition")
    assert mesh.doubles["identity"].calls == []  # never forwarded
    [rec] = await mesh.audit(request_id="xr-wrong-service")
    assert (rec["status"], rec["outcome"], rec["operation_id"], rec["service_code"]) == (
        404,
        "unknown-service",
        PERSON,
        None,
    )
    # a service of another member, a composite that reads the applicant's record as a step
    # (it is no service of identity's) and a made-up code: the same
    assert register.snapshot.runs("cx-birth-of-child", PERSON)
    for code in ("rg-birth-certificate", "cx-birth-of-child", "no-such-service"):
        r = await mesh.gateway.get(
            f"{base}/{code}/persons/{CITIZEN}", headers={**mesh.agency("licensing"), **PURPOSE}
        )
        assert r.status_code == 404 and r.headers["x-road-error"] == "Client.unknown-service"
    assert mesh.doubles["identity"].calls == []


async def test_the_service_used_is_audited_and_shown_in_the_data_tracker(mesh: Mesh) -> None:
    register = seeded(mesh)
    register.grants.add(("licensing", PERSON))
    op = register.snapshot.resolve("identity", "GET", f"/persons/{CITIZEN}", {})
    assert op is not None
    # two services read a person; /x/ names the operation's first one
    assert set(op.service_codes) == {"id-address-certificate", "id-personal-data"}
    primary = op.service_code
    assert primary == "id-address-certificate"
    base = identity_base(register)
    hdrs = {**mesh.agency("licensing"), **PURPOSE}
    r = await mesh.gateway.get(
        f"{base}/id-personal-data/persons/{CITIZEN}",
        headers={**hdrs, "X-Road-Id": "xroad-msg-pd-0001"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["iin"] == CITIZEN and r.json()["seen_by"] == "licensing"
    assert r.headers["x-road-service"].endswith("/identity/id-personal-data")
    [rec] = await mesh.audit(request_id="xroad-msg-pd-0001")
    assert (rec["outcome"], rec["service_code"], rec["subject"]) == (
        "forwarded",
        "id-personal-data",
        CITIZEN,
    )
    # the whole API (``api``) and /x/: the operation's own service, as before
    r = await mesh.gateway.get(
        f"{base}/{WHOLE_API}/persons/{CITIZEN}", headers={**hdrs, "X-Road-Id": "xroad-msg-api-0001"}
    )
    assert r.status_code == 200, r.text
    [rec] = await mesh.audit(request_id="xroad-msg-api-0001")
    assert rec["service_code"] == primary
    r = await mesh.gateway.get(
        f"/x/identity/persons/{CITIZEN}", headers={**hdrs, "X-Request-Id": "x-plain-msg-0001"}
    )
    assert r.status_code == 200, r.text
    [rec] = await mesh.audit(request_id="x-plain-msg-0001")
    assert rec["service_code"] == primary

    r = await mesh.gateway.get("/api/v1/me/data-access", headers=mesh.citizen())
    assert r.status_code == 200, r.text
    seen = {i["request_id"]: i["service_code"] for i in r.json()["items"]}
    assert seen == {
        "xroad-msg-pd-0001": "id-personal-data",
        "xroad-msg-api-0001": primary,
        "x-plain-msg-0001": primary,
    }


def test_the_exchange_accepts_exactly_what_list_methods_lists() -> None:
    """Every (service, endpoint) of listMethods resolves to an operation the X-Road address
    accepts; a service that does not list the endpoint is refused."""
    snap = SeededRegister().snapshot
    for member in snap.members.values():
        if not member.provider:
            continue
        listed: dict[str, set[str]] = {}
        for s in snap.services.values():
            if s.status == "active" and s.kind == "simple":
                for key in s.operations:
                    if key.agency == member.code:
                        listed.setdefault(key.id, set()).add(s.code)
        for info in snap.operations_of(member.code):
            path = "/" + "/".join(
                "x1" if seg.startswith("{") else seg for seg in info.key.path.split("/")[1:]
            )
            op = snap.resolve(member.code, info.key.method, path, {})
            assert op is not None and op.operation_id == info.id, (member.code, info.id)
            services = listed.get(info.id, set())
            for code in services | {WHOLE_API}:
                svc = XRoadService("KZ", "GOV", member.member_code, member.code, code)
                assert svc.runs_operation(op.service_code, op.service_codes), (code, info.id)
            for code in set(snap.services) - services:
                svc = XRoadService("KZ", "GOV", member.member_code, member.code, code)
                assert not svc.runs_operation(op.service_code, op.service_codes), (code, info.id)


# -- the directory services (GovStack IM BB) -------------------------------------------------
async def test_list_clients_at_the_specs_path_and_under_r1(mesh: Mesh) -> None:
    root = await mesh.gateway.get("/listClients")
    r1 = await mesh.gateway.get("/r1/listClients")
    assert root.status_code == r1.status_code == 200
    assert root.headers["content-type"].startswith("application/json")
    assert root.json() == r1.json() and root.json()["member"]
    one = await mesh.gateway.get("/listClients", params={"instanceId": "EE"})
    assert one.json() == {"member": []}
    paths = (await mesh.gateway.get("/openapi.json")).json()["paths"]
    assert paths["/listClients"]["get"]["operationId"] == "listClients"
    assert "/r1/listClients" in paths


async def test_directory_errors_in_a_request_are_400_as_the_spec_says(mesh: Mesh) -> None:
    snap = mesh.components.register.snapshot
    identity = snap.members["identity"]
    base = f"/r1/KZ/GOV/{identity.member_code}/identity"
    client = {"X-GovStack-Client": f"KZ/GOV/{snap.members['registry'].member_code}/registry"}
    # getOpenAPI: an unknown, malformed, empty or missing serviceCode
    for params in ({"serviceCode": "no-such-service"}, {"serviceCode": "_invalid"}, {}):
        body = problem(await mesh.gateway.get(f"{base}/getOpenAPI", params=params), 400)
        assert "serviceCode" in body["errors"]
    r = await mesh.gateway.get(f"{base}/getOpenAPI", params={"serviceCode": ""})
    problem(r, 400)
    # a service of another member is not this provider's
    r = await mesh.gateway.get(f"{base}/getOpenAPI", params={"serviceCode": "rg-birth-certificate"})
    assert problem(r, 400)["type"].endswith("/unknown-service")
    # an unknown provider, for every directory service
    for wrong in (
        f"/r1/KZ/GOV/{identity.member_code}/registry",
        f"/r1/EE/GOV/{identity.member_code}/identity",
        "/r1/KZ/GOV/000000000000/identity",
    ):
        for name, params in (
            ("listMethods", {}),
            ("allowedMethods", {}),
            ("getOpenAPI", {"serviceCode": "api"}),
        ):
            r = await mesh.gateway.get(f"{wrong}/{name}", params=params, headers=client)
            assert problem(r, 400)["type"].endswith("/unknown-member"), (wrong, name)
    # the spec's test suite names the caller Information-Mediator-Client
    by_govstack = await mesh.gateway.get(f"{base}/allowedMethods", headers=client)
    by_im = await mesh.gateway.get(
        f"{base}/allowedMethods",
        headers={"Information-Mediator-Client": client["X-GovStack-Client"]},
    )
    assert by_govstack.status_code == by_im.status_code == 200
    assert by_im.json() == by_govstack.json() and by_im.json()["member"]
    paths = (await mesh.gateway.get("/openapi.json")).json()["paths"]
    documented = paths["/r1/{instanceId}/{memberClass}/{memberCode}/{applicationCode}/getOpenAPI"]
    assert {"400"} <= set(documented["get"]["responses"]) and "404" not in set(
        documented["get"]["responses"]
    )
