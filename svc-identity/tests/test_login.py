"""Citizen login, tokens, refresh rotation, revocation, agency clients, key rotation."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from egov_identity.app import create_app
from egov_identity.domain.credentials import LOGIN_FAILED
from egov_identity.settings import IdentitySettings
from meshkit.auth import JWKSClient, KeyRing, Principal, SigningKey, TokenInvalid
from meshkit.gateway_client import ClientCredentials, TokenProvider
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.apps import FakeGateway, running

ALIKHAN, GULNUR, ERGALI, OPERATOR = "900115300122", "920308400210", "851123300454", "880707300858"
ALIKHAN_PHONE = "+77011234567"
ISSUER = "http://127.0.0.1:8001"


async def verify_like_the_gateway(svc: Any, token: str) -> dict[str, Any]:
    jwks = (await svc.client.get("/.well-known/jwks.json")).json()
    claims: dict[str, Any] = await JWKSClient(jwks).verify(
        token, audience="egov-mesh", issuer=ISSUER
    )
    return claims


async def start(svc: Any, iin: str = ALIKHAN, password: str | None = None) -> Any:
    return await svc.client.post(
        "/auth/login", json={"iin": iin, "password": password or svc.demo_password}
    )


async def test_password_then_sms_code_gives_citizen_tokens(svc: Any) -> None:
    r = await start(svc)
    assert r.status_code == 200, r.text
    assert r.json()["sent_to"].endswith("67") and "*" in r.json()["sent_to"]
    sms = (await svc.client.get("/dev/sms", params={"phone": ALIKHAN_PHONE})).json()
    assert len(sms) == 1 and sms[0]["code"] in sms[0]["text"] and "Кодты" in sms[0]["text"]
    r = await svc.client.post(
        "/auth/otp", json={"challenge_id": r.json()["challenge_id"], "code": sms[0]["code"]}
    )
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    assert 300 <= tokens["expires_in"] <= 900
    claims = await verify_like_the_gateway(svc, tokens["access_token"])
    assert claims["sub"] == ALIKHAN and claims["kind"] == "citizen" and claims["aud"] == "egov-mesh"
    assert claims["exp"] - claims["iat"] == 600 and claims["sid"] and claims["jti"]
    principal = Principal.from_claims(claims)
    assert principal.iin == ALIKHAN and principal.has_scope("citizen")
    unknown = await svc.client.post("/auth/otp", json={"challenge_id": "nope", "code": "123456"})
    assert unknown.status_code == 401 and unknown.json()["type"].endswith("/challenge-invalid")
    r = await svc.client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert r.status_code == 200 and r.json()["given_name"] == "Әлихан"


async def test_code_is_single_use(svc: Any) -> None:
    r = await start(svc)
    challenge = r.json()["challenge_id"]
    code = await svc.last_code(ALIKHAN_PHONE)
    ok = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": code})
    assert ok.status_code == 200
    reused = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": code})
    assert reused.status_code == 401 and reused.json()["type"].endswith("/otp-used")


def tick(clock: Any) -> None:
    """Past the per-IIN attempt limit's refill (5 a minute): one more attempt is allowed."""
    clock.advance(seconds=12)


async def test_wrong_password_and_lockout(svc: Any) -> None:
    """Five wrong passwords lock password login for 15 minutes; every failure, the lock
    included, answers the same generic 401 (no count of attempts left, no 429 that would
    tell a stranger the IIN is registered)."""
    clock = svc.use_clock()
    answers = []
    for _ in range(5):
        tick(clock)
        r = await start(svc, password="wrong-password-1")
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM_JSON
        assert "left" not in r.json()["detail"] and "retry-after" not in r.headers
        answers.append(r.json()["detail"])
    tick(clock)
    r = await start(svc)  # the right password does not help while locked
    assert r.status_code == 401 and r.json()["type"].endswith("/invalid-credentials")
    assert {*answers, r.json()["detail"]} == {LOGIN_FAILED}
    clock.advance(seconds=901)
    assert (await start(svc)).status_code == 200
    r = await start(svc, iin=ERGALI[:-1] + "4", password="x")
    assert r.status_code == 401  # unknown IIN: the same answer as a wrong password


async def test_wrong_codes_lock_the_account(svc: Any) -> None:
    """Wrong OTP ×N → lockout: wrong codes count across fresh challenges (login again does
    not reset the counter), and the 5th failure locks the account."""
    clock = svc.use_clock()
    r = await start(svc)
    challenge = r.json()["challenge_id"]
    real = await svc.last_code(ALIKHAN_PHONE)
    wrong = "000000" if real != "000000" else "111111"
    answers = []
    for _ in range(3):
        tick(clock)
        r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": wrong})
        answers.append((r.status_code, r.json()["type"].rsplit("/", 1)[1]))
    assert answers == [(401, "otp-invalid"), (401, "otp-invalid"), (429, "otp-attempts-exceeded")]
    tick(clock)
    r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": real})
    assert r.status_code == 429  # spent, even with the right code
    r = await start(svc)
    assert r.status_code == 200
    challenge = r.json()["challenge_id"]
    tick(clock)
    r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": wrong})
    assert r.status_code == 401 and "1 failed attempts left" in r.json()["detail"]
    tick(clock)
    r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": wrong})
    assert r.status_code == 429 and r.json()["type"].endswith("/account-locked")
    assert r.headers["retry-after"]
    code = await svc.last_code(ALIKHAN_PHONE)
    tick(clock)
    r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": code})
    assert r.status_code == 429 and r.json()["type"].endswith("/account-locked")
    r = await start(svc)  # locked: the generic answer of any failed password login
    assert r.status_code == 401 and r.json()["detail"] == LOGIN_FAILED


async def test_expired_code_is_refused(svc: Any) -> None:
    clock = svc.use_clock()
    r = await start(svc)
    challenge = r.json()["challenge_id"]
    code = await svc.last_code(ALIKHAN_PHONE)
    clock.advance(seconds=301)
    r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": code})
    assert r.status_code == 401 and r.json()["type"].endswith("/otp-expired")


async def test_codes_per_window_are_limited(svc: Any) -> None:
    clock = svc.use_clock()
    for _ in range(5):
        tick(clock)
        assert (await start(svc)).status_code == 200
    tick(clock)
    r = await start(svc)
    assert r.status_code == 429 and r.json()["type"].endswith("/otp-rate-limited")


async def test_refresh_rotation_and_reuse_revokes_the_family(svc: Any) -> None:
    tokens = await svc.login(ALIKHAN)
    first = tokens["refresh_token"]
    r = await svc.client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first}
    )
    assert r.status_code == 200, r.text
    second = r.json()["refresh_token"]
    assert second != first
    sid = (await verify_like_the_gateway(svc, r.json()["access_token"]))["sid"]
    assert sid == (await verify_like_the_gateway(svc, tokens["access_token"]))["sid"]
    # the first refresh token again: someone copied it → the whole session dies
    r = await svc.client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first}
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert r.json()["type"].endswith("/refresh-token-reused")
    r = await svc.client.post("/auth/refresh", json={"refresh_token": second})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    # introspection sees the session revoked
    basic = base64.b64encode(f"gateway:{svc.client_secret('gateway')}".encode())
    r = await svc.client.post(
        "/oauth/introspect",
        data={"token": tokens["access_token"]},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert r.status_code == 200 and r.json() == {"active": False}


async def test_logout_and_revocation(svc: Any) -> None:
    tokens = await svc.login(ALIKHAN)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await svc.client.post("/auth/logout", headers=auth)).status_code == 204
    r = await svc.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    tokens = await svc.login(ALIKHAN)
    r = await svc.client.post("/oauth/revoke", data={"token": tokens["refresh_token"]})
    assert r.status_code == 200
    r = await svc.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    r = await svc.client.post("/oauth/revoke", data={"token": "nonsense"})
    assert r.status_code == 200  # RFC 7009: unknown tokens are not an error
    assert (await svc.client.post("/auth/logout")).status_code == 401


async def test_password_setup_by_sms_code(svc: Any) -> None:
    r = await svc.client.post("/auth/password/request", json={"iin": ERGALI})
    assert r.status_code == 202
    challenge = r.json()["challenge_id"]
    code = await svc.last_code("+77051234569")
    r = await svc.client.post(
        "/auth/password",
        json={"challenge_id": challenge, "code": code, "new_password": "short"},
    )
    assert r.status_code == 422 and "new_password" in r.json()["errors"]
    r = await svc.client.post(
        "/auth/password",
        json={"challenge_id": challenge, "code": code, "new_password": "Жаңа-құпия-2026"},
    )
    assert r.status_code == 204, r.text
    assert (await start(svc, ERGALI, "Жаңа-құпия-2026")).status_code == 200
    assert (await start(svc, ERGALI)).status_code == 401  # the old password is gone
    r = await svc.client.post("/auth/password/request", json={"iin": "900115300123"})
    assert r.status_code == 422


async def test_operator_login_gives_operator_tokens(svc: Any) -> None:
    tokens = await svc.login(OPERATOR)
    claims = await verify_like_the_gateway(svc, tokens["access_token"])
    assert claims["kind"] == "operator" and "persons:search" in claims["scope"].split()


# -- agencies ---------------------------------------------------------------------------------
async def test_client_credentials_basic_and_post(svc: Any) -> None:
    secret = svc.client_secret("registry")
    r = await svc.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("registry", secret)
    )
    assert r.status_code == 200, r.text
    claims = await verify_like_the_gateway(svc, r.json()["access_token"])
    assert claims["sub"] == "registry" and claims["kind"] == "agency"
    assert claims["agency"] == "registry" and "persons:write" in claims["scope"].split()
    assert r.json().get("refresh_token") is None
    r = await svc.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "registry",
            "client_secret": secret,
            "scope": "persons:read",
        },
    )
    assert r.status_code == 200 and r.json()["scope"] == "persons:read"
    r = await svc.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("registry", "wrong")
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert r.headers["content-type"] == PROBLEM_JSON
    r = await svc.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "mesh:route"},
        auth=("registry", secret),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = await svc.client.post("/oauth/token", data={"grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    # meshkit's own token provider (what every service uses) gets a token too
    provider = TokenProvider(
        ClientCredentials(
            token_url="http://svc/oauth/token",
            client_id="notary",
            client_secret=svc.client_secret("notary"),
        ),
        svc.client,
    )
    claims = await verify_like_the_gateway(svc, await provider.token())
    assert claims["sub"] == "notary"


async def test_an_operator_registers_a_client_with_a_secret_of_its_own(svc: Any) -> None:
    """Deployments set each agency's secret before the mesh starts (deploy/.env): identity
    must accept that value, never echo it, and refuse a weak one."""
    own = "f" * 16 + secrets.token_hex(16)
    body = {"client_id": "customs", "agency_code": "customs", "scopes": ["persons:read"]}
    r = await svc.client.put(
        "/admin/clients/customs",
        json={**body, "client_secret": own},
        headers=svc.admin_headers,
    )
    assert r.status_code == 200 and r.json()["client_secret"] is None  # not echoed
    r = await svc.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("customs", own)
    )
    assert r.status_code == 200, r.text
    r = await svc.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("customs", own[:-1])
    )
    assert r.status_code == 401
    r = await svc.client.put(
        "/admin/clients/customs",
        json={**body, "client_secret": "short"},
        headers=svc.admin_headers,
    )
    assert r.status_code == 422 and "client_secret" in r.text


async def test_private_key_jwt_client_registered_by_admin(svc: Any) -> None:
    key = SigningKey.generate("ES256")
    body = {
        "client_id": "tax",
        "agency_code": "tax",
        "scopes": ["persons:read"],
        "jwks": {"keys": [key.public_jwk()]},
        "generate_secret": False,
    }
    r = await svc.client.put("/admin/clients/tax", json=body)
    assert r.status_code == 401
    r = await svc.client.put("/admin/clients/tax", json=body, headers=svc.admin_headers)
    assert (
        r.status_code == 200 and r.json()["private_key_jwt"] and r.json()["client_secret"] is None
    )

    def assertion(jti: str, aud: str = f"{ISSUER}/oauth/token") -> str:
        now = int(time.time())
        return key.sign(
            {"iss": "tax", "sub": "tax", "aud": aud, "jti": jti, "iat": now, "exp": now + 60}
        )

    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    jti = str(uuid.uuid4())
    r = await svc.client.post("/oauth/token", data={**form, "client_assertion": assertion(jti)})
    assert r.status_code == 200, r.text
    assert (await verify_like_the_gateway(svc, r.json()["access_token"]))["sub"] == "tax"
    r = await svc.client.post("/oauth/token", data={**form, "client_assertion": assertion(jti)})
    assert r.status_code == 401 and "replay" in r.json()["detail"]
    r = await svc.client.post(
        "/oauth/token",
        data={**form, "client_assertion": assertion(str(uuid.uuid4()), aud="https://elsewhere")},
    )
    assert r.status_code == 401
    impostor = SigningKey(ec.generate_private_key(ec.SECP256R1()), kid=key.kid)
    forged = impostor.sign(
        {"iss": "tax", "sub": "tax", "aud": ISSUER, "jti": "x", "exp": int(time.time()) + 60}
    )
    r = await svc.client.post("/oauth/token", data={**form, "client_assertion": forged})
    assert r.status_code == 401
    # a secret-based client registered by the admin gets its secret once
    r = await svc.client.put(
        "/admin/clients/customs",
        json={"client_id": "customs", "agency_code": "customs", "scopes": ["persons:read"]},
        headers=svc.admin_headers,
    )
    secret = r.json()["client_secret"]
    r = await svc.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("customs", secret)
    )
    assert r.status_code == 200


# -- issuer keys ------------------------------------------------------------------------------
async def test_discovery_document(svc: Any) -> None:
    r = await svc.client.get("/.well-known/openid-configuration")
    assert r.status_code == 200
    doc = r.json()
    assert doc["issuer"] == ISSUER and doc["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]
    assert doc["id_token_signing_alg_values_supported"] == ["EdDSA"]


async def test_rotated_out_key_still_verifies_until_its_tokens_expire(svc: Any) -> None:
    clock = svc.use_clock()
    old = (await svc.login(ALIKHAN))["access_token"]
    old_kid = jwt.get_unverified_header(old)["kid"]
    r = await svc.client.post("/admin/keys/rotate", headers=svc.admin_headers)
    assert r.status_code == 200 and r.json()["current_kid"] != old_kid
    new = (await svc.login(GULNUR))["access_token"]
    assert jwt.get_unverified_header(new)["kid"] == r.json()["current_kid"]
    kids = [k["kid"] for k in (await svc.client.get("/.well-known/jwks.json")).json()["keys"]]
    assert kids == [r.json()["current_kid"], old_kid]
    assert (await verify_like_the_gateway(svc, old))["sub"] == ALIKHAN
    assert (await verify_like_the_gateway(svc, new))["sub"] == GULNUR
    clock.advance(seconds=600 + 61)  # every token of the old key has expired by now
    kids = [k["kid"] for k in (await svc.client.get("/.well-known/jwks.json")).json()["keys"]]
    assert kids == [r.json()["current_kid"]]
    with pytest.raises(TokenInvalid, match="unknown key"):
        await verify_like_the_gateway(svc, old)


async def test_configured_key_and_production_mode(tmp_path: Path) -> None:
    """Without dev mode: keys from settings, no SMS reader, no demo data, no admin."""
    gw = FakeGateway(tmp_path)
    key = KeyRing(SigningKey.generate("ES256")).current
    ca_key = SigningKey.generate("ES256")
    settings = IdentitySettings(
        data_dir=tmp_path,
        dev_mode=False,
        kafka_enabled=False,
        log_json=False,
        gateway_jwks_url=gw.jwks_url,
        signing_key_pem=key.private_pem().decode(),
        ca_key_pem=ca_key.private_pem().decode(),
        public_url="https://idp.egov.example",
        sms_gateway_url="http://127.0.0.1:9/sms",  # a provider is required outside dev mode
    )
    async with running(create_app(settings)) as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert [k["kid"] for k in jwks["keys"]] == [key.kid] and jwks["keys"][0]["alg"] == "ES256"
        doc = (await client.get("/.well-known/openid-configuration")).json()
        assert doc["issuer"] == "https://idp.egov.example"
        assert (await client.get("/dev/sms", params={"phone": ALIKHAN_PHONE})).status_code == 404
        assert (await client.get("/dev/sms/challenges/any")).status_code == 404
        # no break-glass token outside dev mode: only an operator's access token would do
        r = await client.post("/admin/keys/rotate", headers={"Authorization": "Bearer x"})
        assert r.status_code == 401
        r = await client.post("/auth/login", json={"iin": ALIKHAN, "password": "whatever-1"})
        assert r.status_code == 401
        assert not list(tmp_path.glob("*.pem"))  # noqa: ASYNC240  nothing generated on disk
