"""Operators are people with roles (meshkit.auth.roles): the demo administrator signs in like
a citizen (password + one-time code) and its access token — kind ``operator``, claim
``roles`` — opens identity's admin API (``identity-admin``). Next to each use, the attacker's:
citizens, agencies, operators without the role, expired/forged/other-audience tokens and
ended sessions are refused with problem+json. A change of roles ends the person's sessions.
The static token is break-glass only, and says so in the log."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from structlog.testing import capture_logs

from egov_identity.operators_cli import parser, run
from egov_identity.seed import DEMO_ADMIN_IIN, DEMO_ADMIN_PASSWORD_SECRET
from meshkit.auth.keys import SigningKey
from meshkit.devsecrets import dev_secret
from meshkit.problems import PROBLEM_JSON

ERGALI = "851123300454"  # a demo citizen
OPERATOR = "880707300858"  # the demo centre operator (centre-operator, auditor)

CLIENT = {
    "client_id": "customs",
    "agency_code": "customs",
    "scopes": ["persons:read"],
    "generate_secret": True,
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


async def admin_tokens(svc: Any) -> dict[str, Any]:
    password = dev_secret(DEMO_ADMIN_PASSWORD_SECRET, svc.data_dir)
    tokens: dict[str, Any] = await svc.login(DEMO_ADMIN_IIN, password)
    return tokens


async def admin_token(svc: Any) -> str:
    token: str = (await admin_tokens(svc))["access_token"]
    return token


async def introspect(svc: Any, token: str) -> httpx.Response:
    auth = ("registry", svc.client_secret("registry"))
    r: httpx.Response = await svc.client.post("/oauth/introspect", data={"token": token}, auth=auth)
    return r


def signed(svc: Any, key: Any = None, **claims: Any) -> str:
    """A token as identity signs them (its current key unless another is given)."""
    now = int(time.time())
    base = {
        "iss": svc.identity.issuer.issuer,
        "aud": svc.identity.settings.audience,
        "sub": DEMO_ADMIN_IIN,
        "kind": "operator",
        "scope": "openid",
        "roles": ["identity-admin"],
        "sid": "sid-" + uuid.uuid4().hex,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    signer = key or svc.identity.issuer._current
    token: str = signer.sign({**base, **claims}, headers={"typ": "at+jwt"})
    return token


# -- the user ---------------------------------------------------------------------------------
async def test_the_demo_administrator_signs_in_and_administers_with_its_own_token(
    svc: Any,
) -> None:
    # its own dev password: the demo citizens' one does not open it
    r = await svc.client.post(
        "/auth/login", json={"iin": DEMO_ADMIN_IIN, "password": svc.demo_password}
    )
    problem(r, 401)
    tokens = await admin_tokens(svc)
    token = tokens["access_token"]
    r = await svc.client.get("/oauth/userinfo", headers=bearer(token))
    assert r.json()["kind"] == "operator"
    assert r.json()["roles"] == ["auditor", "identity-admin", "register-admin"]
    with capture_logs() as logs:
        r = await svc.client.put("/admin/clients/customs", json=CLIENT, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["client_secret"]
    [call] = [e for e in logs if e["event"] == "admin.call"]
    assert (call["actor"], call["break_glass"], call["path"]) == (
        DEMO_ADMIN_IIN,
        False,
        "/admin/clients/customs",
    )
    r = await svc.client.get("/admin/operators", headers=bearer(token))
    roles = {o["iin"]: o["roles"] for o in r.json()}
    assert roles[DEMO_ADMIN_IIN] == ["auditor", "identity-admin", "register-admin"]
    assert roles[OPERATOR] == ["auditor", "centre-operator"]
    # a refreshed token carries the roles the credential holds
    r = await svc.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    refreshed = r.json()["access_token"]
    info = (await svc.client.get("/oauth/userinfo", headers=bearer(refreshed))).json()
    assert info["roles"] == ["auditor", "identity-admin", "register-admin"]


async def test_roles_are_granted_and_taken_and_a_change_ends_the_sessions(svc: Any) -> None:
    admin = bearer(await admin_token(svc))
    citizen = (await svc.login(ERGALI))["access_token"]
    r = await svc.client.put(
        f"/admin/operators/{ERGALI}", json={"roles": ["auditor"]}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "iin": ERGALI,
        "roles": ["auditor"],
        "has_password": True,
        "sessions_revoked": 1,
    }
    # the old session is over; the new sign-in carries the role, and only that one
    r = await introspect(svc, citizen)
    assert r.json()["active"] is False
    auditor = (await svc.login(ERGALI))["access_token"]
    info = (await svc.client.get("/oauth/userinfo", headers=bearer(auditor))).json()
    assert (info["kind"], info["roles"]) == ("operator", ["auditor"])
    problem(await svc.client.post("/admin/keys/rotate", headers=bearer(auditor)), 403)
    # a citizen again
    r = await svc.client.put(f"/admin/operators/{ERGALI}", json={"roles": []}, headers=admin)
    assert r.json()["roles"] == [] and r.json()["sessions_revoked"] == 1
    r = await introspect(svc, auditor)
    assert r.json()["active"] is False
    citizen = (await svc.login(ERGALI))["access_token"]
    again = (await svc.client.get("/oauth/userinfo", headers=bearer(citizen))).json()
    assert again["kind"] == "citizen" and "roles" not in again
    # unknown roles and unknown people are refused
    r = await svc.client.put(f"/admin/operators/{ERGALI}", json={"roles": ["root"]}, headers=admin)
    problem(r, 422)
    r = await svc.client.put(
        "/admin/operators/820312308615", json={"roles": ["auditor"]}, headers=admin
    )
    assert r.status_code in (404, 422)


# -- the attacker -------------------------------------------------------------------------------
async def test_a_token_without_the_role_is_refused_403(svc: Any) -> None:
    citizen = (await svc.login(ERGALI))["access_token"]
    centre = (await svc.login(OPERATOR))["access_token"]  # centre-operator + auditor
    secret = svc.client_secret("registry")
    r = await svc.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("registry", secret)
    )
    agency = r.json()["access_token"]
    # a citizen's token (of a live session) that claims the role: kind decides, not the claim
    sid = jwt.decode(citizen, options={"verify_signature": False})["sid"]
    claiming = signed(svc, sub=ERGALI, kind="citizen", sid=sid)
    for token in (citizen, centre, agency, claiming):
        body = problem(
            await svc.client.put("/admin/clients/customs", json=CLIENT, headers=bearer(token)), 403
        )
        assert "identity-admin" in body["detail"]
        problem(await svc.client.post("/admin/keys/rotate", headers=bearer(token)), 403)
        r = await svc.client.put(
            f"/admin/operators/{ERGALI}", json={"roles": ["identity-admin"]}, headers=bearer(token)
        )
        problem(r, 403)
    r = await svc.client.get("/admin/operators", headers=svc.admin_headers)
    assert ERGALI not in {o["iin"] for o in r.json()}  # nobody made themselves an admin


@pytest.mark.parametrize("bad", ["expired", "forged", "other audience", "not a token", "none"])
async def test_an_invalid_token_is_refused_401(svc: Any, bad: str) -> None:
    await admin_token(svc)  # a live session exists: the bad token is not refused for that
    key = svc.identity.issuer._current
    headers = {
        "expired": lambda: bearer(signed(svc, exp=int(time.time()) - 60)),
        "forged": lambda: bearer(
            signed(svc, key=SigningKey(SigningKey.generate().private_key, kid=key.kid))
        ),
        "other audience": lambda: bearer(signed(svc, aud="egov-gateway/centre")),
        "not a token": lambda: bearer("x"),
        "none": lambda: {},
    }[bad]()
    problem(await svc.client.post("/admin/keys/rotate", headers=headers), 401)


async def test_an_ended_operator_session_is_refused_401(svc: Any) -> None:
    token = await admin_token(svc)
    assert (await svc.client.get("/admin/operators", headers=bearer(token))).status_code == 200
    r = await svc.client.post("/auth/logout", headers=bearer(token))
    assert r.status_code == 204
    problem(await svc.client.get("/admin/operators", headers=bearer(token)), 401)
    # revoked by another administrator (break-glass here) — likewise
    token = await admin_token(svc)
    r = await svc.client.post(
        f"/admin/persons/{DEMO_ADMIN_IIN}/sessions/revoke", headers=svc.admin_headers
    )
    assert r.json()["revoked"] == 1
    problem(await svc.client.get("/admin/operators", headers=bearer(token)), 401)


async def test_the_static_token_is_break_glass_and_logged_as_such(svc: Any) -> None:
    with capture_logs() as logs:
        r = await svc.client.get("/admin/operators", headers=svc.admin_headers)
    assert r.status_code == 200
    [call] = [e for e in logs if e["event"] == "admin.call"]
    assert (call["actor"], call["break_glass"], call["log_level"]) == (
        "break-glass",
        True,
        "warning",
    )


async def test_the_first_admin_is_made_at_the_console_without_any_static_token(svc: Any) -> None:
    settings = svc.identity.settings
    grant = parser().parse_args(["grant", ERGALI, "identity-admin"])
    with capture_logs() as logs:
        assert await run(grant, settings) == [f"{ERGALI}  identity-admin"]
    [change] = [e for e in logs if e["event"] == "admin.operator_roles_changed"]
    assert change["by"].startswith("console:") and change["roles"] == ["identity-admin"]
    token = (await svc.login(ERGALI))["access_token"]
    r = await svc.client.get("/admin/operators", headers=bearer(token))
    assert r.status_code == 200 and ERGALI in {o["iin"] for o in r.json()}
    assert f"{ERGALI}  identity-admin" in await run(parser().parse_args(["list"]), settings)
    assert await run(parser().parse_args(["revoke", ERGALI]), settings) == [
        f"{ERGALI}  (citizen)  (1 sessions ended)"
    ]
    problem(await svc.client.get("/admin/operators", headers=bearer(token)), 401)
    with pytest.raises(SystemExit):  # an unknown role is refused before anything is written
        parser().parse_args(["grant", ERGALI, "root"])
