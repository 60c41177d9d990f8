"""The citizen's mandate: the single window's steps reach agencies as the citizen, within the
service applied for, never with the gateway's own rights (issue 15, the confused deputy).

Real routed exchange (token check, register, ACL, assertion, audit) in front of contract
doubles, on SQLite and PostgreSQL. Each user's test stands next to the attacker's."""

from __future__ import annotations

import jwt

from egov_gateway.exchange.adapters.mandate import issue_mandate
from egov_gateway.exchange.adapters.register_memory import OperationSpec
from meshkit.auth.keys import SigningKey
from meshkit_testing.gateway import CITIZEN, OTHER_CITIZEN, Mesh

APPLICATION = "5b0f3f6e-0000-4000-8000-000000000001"
PURPOSE = {"X-Mesh-Purpose": f"application {APPLICATION}: identity-person, step applicant"}


def mandate(
    mesh: Mesh, *, iin: str = CITIZEN, service: str = "identity-person", **kw: object
) -> dict[str, str]:
    token = issue_mandate(
        kw.pop("key", None) or mesh.gateway_ring.current,  # type: ignore[arg-type]
        applicant_iin=iin,
        application_id=APPLICATION,
        service_code=service,
        **kw,  # type: ignore[arg-type]
    )
    return {"Authorization": f"Bearer {token}", **PURPOSE}


async def test_a_step_reaches_the_agency_as_the_citizen_and_is_audited_so(mesh: Mesh) -> None:
    r = await mesh.gateway.get(
        f"/x/identity/persons/{CITIZEN}",
        headers={**mandate(mesh), "X-Request-Id": f"{APPLICATION}.1.1"},
    )
    assert r.status_code == 200, r.text
    got = mesh.doubles["identity"].calls[-1]
    # the agency sees the citizen, exactly as if the citizen had called: its citizen rules apply
    assert got["call"]["client"] == "citizen" and got["call"]["user"] == CITIZEN
    assert got["call"]["actor"] == "gateway"  # … made for them by the single window
    assert got["headers"]["x-mesh-client"] == "citizen"
    assert got["headers"]["x-mesh-user"] == CITIZEN
    claims = jwt.decode(got["headers"]["x-mesh-assertion"], options={"verify_signature": False})
    assert claims["sub"] == "citizen" and claims["usr"] == CITIZEN
    assert claims["act"] == {"sub": "gateway"}
    [rec] = await mesh.audit(request_id=f"{APPLICATION}.1.1")
    assert (rec["client"], rec["user"], rec["outcome"]) == ("citizen", CITIZEN, "forwarded")
    assert rec["purpose"] == PURPOSE["X-Mesh-Purpose"]
    assert rec["service_code"] == "identity-person"  # the service applied for


async def test_a_mandate_never_speaks_for_another_person(mesh: Mesh) -> None:
    """The attacker's test: the applicant's mandate with someone else as the user."""
    r = await mesh.gateway.get(
        f"/x/identity/persons/{OTHER_CITIZEN}",
        headers={**mandate(mesh), "X-Mesh-User": OTHER_CITIZEN, "X-Request-Id": "req-mandate-2"},
    )
    assert r.status_code == 403, r.text
    assert "own behalf" in r.json()["detail"]
    [rec] = await mesh.audit(request_id="req-mandate-2")
    assert (rec["client"], rec["outcome"], rec["status"]) == ("citizen", "denied", 403)


async def test_a_mandate_covers_the_service_applied_for_only(mesh: Mesh) -> None:
    # another citizen-facing operation, run by another service
    mesh.register.add_member(
        mesh.register.members["licensing"].__class__(
            agency="licensing",
            member_code=mesh.register.members["licensing"].member_code,
            base_url=mesh.register.members["licensing"].base_url,
            operations=[
                OperationSpec(
                    "GET",
                    "/persons/{iin}",
                    service_code="licensing-person",
                    citizen_facing=True,
                    subject_param="iin",
                    run_by=("cx-composite",),
                )
            ],
        )
    )
    r = await mesh.gateway.get(
        f"/x/licensing/persons/{CITIZEN}",
        headers={**mandate(mesh, service="identity-person"), "X-Request-Id": "req-mandate-3"},
    )
    assert r.status_code == 403, r.text
    assert "does not run licensing:GET /persons/{iin}" in r.json()["detail"]
    [rec] = await mesh.audit(request_id="req-mandate-3")
    assert (rec["client"], rec["user"], rec["outcome"]) == ("citizen", CITIZEN, "denied")
    # the same citizen, with the mandate for that service, passes
    ok = await mesh.gateway.get(
        f"/x/licensing/persons/{CITIZEN}",
        headers={**mandate(mesh, service="licensing-person"), "X-Request-Id": "req-mandate-3b"},
    )
    assert ok.status_code == 200, ok.text
    [rec] = await mesh.audit(request_id="req-mandate-3b")
    assert rec["service_code"] == "licensing-person"
    # a composite's step is recorded as that composite: the service the citizen applied for
    step = await mesh.gateway.get(
        f"/x/licensing/persons/{CITIZEN}",
        headers={**mandate(mesh, service="cx-composite"), "X-Request-Id": "req-mandate-3c"},
    )
    assert step.status_code == 200, step.text
    [rec] = await mesh.audit(request_id="req-mandate-3c")
    assert rec["service_code"] == "cx-composite"


async def test_no_grant_of_the_gateway_opens_what_the_citizen_may_not_call(mesh: Mesh) -> None:
    """A mandate is a citizen's authority: an operation that is not citizen-facing stays
    closed even where the gateway's own client holds a grant."""
    mesh.register.grant("gateway", "identity:POST /echo")
    r = await mesh.gateway.post(
        "/x/identity/echo", content=b"{}", headers={**mandate(mesh), "X-Request-Id": "req-m4"}
    )
    assert r.status_code == 403, r.text
    assert r.json()["detail"] == "identity:POST /echo is not open to citizens"
    assert not [c for c in mesh.doubles["identity"].calls if c["path"] == "/echo"]


async def test_forged_expired_or_misdirected_mandates_are_refused(mesh: Mesh) -> None:
    forged = mandate(mesh, key=SigningKey.generate())
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=forged)
    assert r.status_code == 401 and "unknown key" in r.json()["detail"]
    expired = mandate(mesh, ttl_s=-60)
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=expired)
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    # only the routed exchange accepts a mandate: it is no login to the portal's endpoints
    r = await mesh.gateway.get("/api/v1/me/applications", headers=mandate(mesh))
    assert r.status_code == 401, r.text
    assert not mesh.doubles["identity"].calls


async def test_a_read_by_id_appears_in_the_owners_data_tracker(mesh: Mesh) -> None:
    """Issue 16: an agency reading a person's record by the record's own id (an invoice) is
    shown to that person: the owner of the data names them (X-Mesh-Data-Subject), the gateway
    records them as the audit's data subject and keeps the header to itself."""
    mesh.register.grant("licensing", "payments:GET /records/{record_id}")
    r = await mesh.gateway.get(
        "/x/payments/records/inv-77",
        headers={
            **mesh.agency("licensing"),
            "X-Mesh-Purpose": "license 9: the duty",
            "X-Request-Id": "req-subject-1",
        },
    )
    assert r.status_code == 200, r.text
    assert "x-mesh-data-subject" not in r.headers
    [rec] = await mesh.audit(request_id="req-subject-1")
    assert rec["subject"] == CITIZEN  # not the invoice id
    mine = await mesh.gateway.get("/api/v1/me/data-access", headers=mesh.citizen(CITIZEN))
    assert mine.status_code == 200, mine.text
    seen = [i for i in mine.json()["items"] if i["request_id"] == "req-subject-1"]
    assert [(i["who"], i["purpose"]) for i in seen] == [("licensing", "license 9: the duty")]
    other = await mesh.gateway.get("/api/v1/me/data-access", headers=mesh.citizen(OTHER_CITIZEN))
    assert not [i for i in other.json()["items"] if i["request_id"] == "req-subject-1"]
