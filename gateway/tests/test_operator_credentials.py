"""One operator credential (deploy/RUNBOOK.md, "Operator credentials"): an operator's access
token from identity, with roles, opens the register's admin API (``register-admin``) and the
audit log (``auditor``); every admin call is audited with the operator's IIN. Next to each
use, the attacker's: citizens, agencies, operators without the role, expired, forged, other
audience or issuer, revoked sessions — refused with problem+json and recorded. The static
token stays only as break-glass: it names no one in the audit, and is off unless configured
(or in dev mode)."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshkit.auth.keys import SigningKey
from meshkit.contracts.identity import SessionRevoked
from meshkit.devsecrets import dev_secret
from meshkit.events import EventData, TypedEvent, build_envelope
from meshkit.messaging.handlers import dispatch
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.gateway import CITIZEN, OPERATOR, Mesh, start_mesh
from meshkit_testing.polling import eventually

ADMIN = "register-admin"
MEMBERS = "/api/v1/admin/members"
SUSPEND = "/api/v1/admin/members/registry/suspend"
ACTIVATE = "/api/v1/admin/members/registry/activate"
POLL_DEADLINE_S = 5.0  # the deny list is refreshed every second (GATEWAY_REVOCATION_POLL_S)


async def deliver(mesh: Mesh, data: EventData) -> None:
    """Hand an identity event to the gateway's handlers as the consumer does."""
    runtime = mesh.app.state.runtime
    envelope = build_envelope(data, source="/svc-identity", subject=None)
    typed: TypedEvent[Any] = TypedEvent(envelope=envelope, data=data)
    async with runtime.uow_factory() as uow:
        await dispatch(runtime.handlers, typed, uow)
        await uow.commit()


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


async def registry_active(mesh: Mesh) -> bool:
    r = await mesh.gateway.get(MEMBERS, headers=mesh.operator(ADMIN))
    assert r.status_code == 200, r.text
    return bool({m["code"]: m for m in r.json()}["registry"]["status"] == "active")


async def record_of(mesh: Mesh, r: httpx.Response) -> dict[str, Any]:
    [rec] = await mesh.audit(request_id=r.headers["x-request-id"])
    return rec


# -- the user: one token for the register and the audit log -----------------------------------
async def test_a_register_admin_changes_the_register_and_the_audit_names_them(
    mesh: Mesh,
) -> None:
    body = json.dumps({"reason": "planned maintenance"}).encode()
    headers = {**mesh.operator(ADMIN), "Content-Type": "application/json"}
    r = await mesh.gateway.post(SUSPEND, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended"
    rec = await record_of(mesh, r)
    assert (rec["client"], rec["user"], rec["status"], rec["outcome"]) == (
        "operator",
        OPERATOR,
        200,
        "admin-call",
    )
    assert rec["operation_id"] == "gateway:POST /api/v1/admin/members/{code}/suspend"
    assert rec["request_sha256"] == hashlib.sha256(body).hexdigest()  # what was changed
    r = await mesh.gateway.post(ACTIVATE, json={"reason": "done"}, headers=mesh.operator(ADMIN))
    assert r.status_code == 200 and r.json()["status"] == "active"
    # a refused change is an admin call too, with its status
    r = await mesh.gateway.post(
        "/api/v1/admin/members/nobody/suspend", json={"reason": "x"}, headers=mesh.operator(ADMIN)
    )
    problem(r, 404)
    rec = await record_of(mesh, r)
    assert (rec["user"], rec["status"], rec["outcome"]) == (OPERATOR, 404, "admin-call-failed")
    # one sign-in with both roles: the register and the audit log
    both = mesh.operator(ADMIN, "auditor")
    assert (await mesh.gateway.get(MEMBERS, headers=both)).status_code == 200
    assert (await mesh.gateway.get("/api/v1/audit/verify", headers=both)).json()["ok"]


# -- the attacker -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "client", "user"),
    [
        ("citizen", "citizen", CITIZEN),
        ("citizen claiming roles", "citizen", CITIZEN),
        ("agency", "licensing", None),
        ("auditor", "operator", OPERATOR),
        ("centre operator", "operator", OPERATOR),
        ("operator without roles", "operator", OPERATOR),
    ],
)
async def test_a_valid_token_without_the_role_cannot_touch_the_register(
    mesh: Mesh, who: str, client: str, user: str | None
) -> None:
    headers = {
        "citizen": mesh.citizen(),
        "citizen claiming roles": mesh.identity.bearer("citizen", CITIZEN, roles=[ADMIN]),
        "agency": mesh.agency("licensing"),
        "auditor": mesh.operator("auditor"),
        "centre operator": mesh.operator("centre-operator"),
        "operator without roles": mesh.identity.bearer("operator", OPERATOR),
    }[who]
    r = await mesh.gateway.post(SUSPEND, json={"reason": "hostile"}, headers=headers)
    body = problem(r, 403)
    assert "register-admin" in body["detail"]
    rec = await record_of(mesh, r)
    assert (rec["client"], rec["user"], rec["status"], rec["outcome"]) == (
        client,
        user,
        403,
        "admin-denied",
    )
    problem(await mesh.gateway.get(MEMBERS, headers=headers), 403)
    assert await registry_active(mesh)  # nothing changed


async def test_a_register_admin_alone_cannot_read_the_audit_log(mesh: Mesh) -> None:
    r = await mesh.gateway.get("/api/v1/audit", headers=mesh.operator(ADMIN))
    assert "auditor" in problem(r, 403)["detail"]
    rec = await record_of(mesh, r)
    assert (rec["client"], rec["user"], rec["outcome"]) == ("operator", OPERATOR, "denied")
    problem(await mesh.gateway.get("/api/v1/audit/verify", headers=mesh.operator(ADMIN)), 403)


def _forged(mesh: Mesh) -> str:
    """Signed by the attacker's key under the kid of identity's real key."""
    real = mesh.identity.ring.current
    fake = SigningKey(SigningKey.generate().private_key, kid=real.kid)
    return mesh.identity.token("operator", OPERATOR, roles=[ADMIN], key=fake)


@pytest.mark.parametrize(
    "bad", ["expired", "forged", "other audience", "other issuer", "not a token", "alg none"]
)
async def test_an_invalid_operator_token_is_refused_and_recorded(mesh: Mesh, bad: str) -> None:
    ident = mesh.identity
    token = {
        "expired": lambda: ident.token("operator", OPERATOR, roles=[ADMIN], now=time.time() - 3600),
        "forged": lambda: _forged(mesh),
        "other audience": lambda: ident.token(
            "operator", OPERATOR, roles=[ADMIN], aud="egov-gateway/centre"
        ),
        "other issuer": lambda: ident.token(
            "operator", OPERATOR, roles=[ADMIN], iss="https://idp.attacker.example"
        ),
        "not a token": lambda: "wrong",
        "alg none": lambda: "eyJhbGciOiJub25lIn0.eyJzdWIiOiI4ODA3MDczMDA4NTgifQ.",
    }[bad]()
    r = await mesh.gateway.post(
        SUSPEND, json={"reason": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    rec = await record_of(mesh, r)
    assert (rec["client"], rec["status"], rec["outcome"]) == (
        "anonymous",
        401,
        "admin-unauthenticated",
    )
    assert await registry_active(mesh)


async def test_a_revoked_operator_session_ends_at_the_admin_api_and_the_audit_log(
    mesh: Mesh,
) -> None:
    token = mesh.identity.token("operator", OPERATOR, roles=[ADMIN, "auditor"], sid="op-sid")
    other_session = mesh.operator(ADMIN, sid="op-other")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await mesh.gateway.get(MEMBERS, headers=headers)).status_code == 200  # cached now
    await deliver(
        mesh,
        SessionRevoked(
            iin=OPERATOR, session_id="op-sid", reason="operator", revoked_at=datetime.now(UTC)
        ),
    )

    async def refused() -> bool:
        return (await mesh.gateway.get(MEMBERS, headers=headers)).status_code == 401

    await eventually(refused, within=POLL_DEADLINE_S, what="the revoked session to be refused")
    problem(await mesh.gateway.post(SUSPEND, json={"reason": "x"}, headers=headers), 401)
    problem(await mesh.gateway.get("/api/v1/audit", headers=headers), 401)
    assert (await mesh.gateway.get(MEMBERS, headers=other_session)).status_code == 200
    assert await registry_active(mesh)


# -- break-glass ------------------------------------------------------------------------------
async def test_the_static_token_is_break_glass_and_names_no_one(mesh: Mesh) -> None:
    static = mesh.components.admin_token
    assert static is not None  # dev mode: generated (dev-secrets.json "gateway-admin")
    r = await mesh.gateway.get(MEMBERS, headers={"Authorization": f"Bearer {static}"})
    assert r.status_code == 200
    rec = await record_of(mesh, r)
    assert (rec["client"], rec["user"], rec["outcome"]) == ("break-glass", None, "admin-call")


async def test_without_a_configured_static_token_only_operators_get_in(
    tmp_path: Path, db_url: str
) -> None:
    async for mesh in start_mesh(tmp_path, db_url, admin_disabled=True):
        assert mesh.components.admin_token is None
        static = dev_secret("gateway-admin", mesh.components.settings.data_dir)
        r = await mesh.gateway.get(MEMBERS, headers={"Authorization": f"Bearer {static}"})
        problem(r, 401)
        assert (await mesh.gateway.get(MEMBERS, headers=mesh.operator(ADMIN))).status_code == 200
