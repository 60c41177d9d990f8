"""SMS delivery through a real HTTP provider (a local fake on a free port), the dev banner's
code-of-one-challenge endpoint, and a citizen's consent at a public service centre."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from egov_identity.adapters import orm
from egov_identity.app import create_app
from egov_identity.service_layer.sms import deliver_queued
from egov_identity.settings import IdentitySettings
from meshkit.auth import JWKSClient, KeyRing, SigningKey, TokenInvalid
from meshkit.devsecrets import dev_secret
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.devinfra import free_port
from meshkit_testing.polling import eventually

ALIKHAN, ERGALI, OPERATOR = "900115300122", "851123300454", "880707300858"
ALIKHAN_PHONE, ERGALI_PHONE = "+77011234567", "+77051234569"
Svc = Any  # conftest.Svc
ISSUER = "http://127.0.0.1:8001"
PROVIDER_TOKEN = "provider-token-7f3a"


@dataclass
class Provider:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    failures_left: int = 0  # answer 503 this many times first
    always: int | None = None  # answer this status every time

    def code(self, i: int = -1) -> str:
        text: str = self.received[i]["json"]["text"]
        return next(w.strip(".,;:") for w in text.split() if w.strip(".,;:").isdigit())


@asynccontextmanager
async def fake_provider() -> AsyncIterator[Provider]:
    """An SMS gateway API as a real HTTP server on a free port."""
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}/v1/sms")
    app = FastAPI()

    @app.post("/v1/sms")
    async def send(request: Request) -> JSONResponse:
        provider.received.append({"headers": dict(request.headers), "json": await request.json()})
        if provider.always is not None:
            return JSONResponse({"error": "down"}, status_code=provider.always)
        if provider.failures_left > 0:
            provider.failures_left -= 1
            return JSONResponse({"error": "busy"}, status_code=503)
        return JSONResponse({"id": f"m{len(provider.received)}", "status": "accepted"})

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, within=10, what="the fake SMS provider to listen")
    try:
        yield provider
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    async with fake_provider() as p:
        yield p


@pytest.fixture
async def with_provider(tmp_path: Path, svc_with: Any, provider: Provider) -> AsyncIterator[Svc]:
    """Identity (demo data) sending through the HTTP provider; the token from a secret file."""
    token_file = tmp_path / "sms-token"
    token_file.write_text(PROVIDER_TOKEN + "\n")
    async with svc_with(
        sms_provider="http",
        sms_gateway_url=provider.url,
        sms_gateway_token_file=token_file,
        sms_attempts=3,
        sms_retry_backoff_s=0.01,
        sms_timeout_s=2,
    ) as svc:
        yield svc


async def _outbox(svc: Svc) -> list[dict[str, Any]]:
    t = orm.sms_outbox
    async with svc.app.state.runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(t.c.id, t.c.purpose, t.c.sent_at, t.c.failed_at, t.c.attempts).order_by(t.c.id)
        )
        return [dict(r._mapping) for r in rows]


# -- the HTTP SMS provider ---------------------------------------------------------------------
async def test_login_code_goes_to_the_provider_in_the_users_language(
    with_provider: Svc, provider: Provider
) -> None:
    svc = with_provider
    provider.failures_left = 1  # the first try is answered 503: retried
    r = await svc.client.post(
        "/auth/login", json={"iin": ALIKHAN, "password": svc.demo_password, "lang": "ru"}
    )
    assert r.status_code == 200, r.text
    assert len(provider.received) == 2  # one retry, by the same reference
    sent = provider.received[-1]
    assert sent["headers"]["authorization"] == f"Bearer {PROVIDER_TOKEN}"
    assert sent["headers"]["idempotency-key"] == provider.received[0]["headers"]["idempotency-key"]
    body = sent["json"]
    assert body["to"] == ALIKHAN_PHONE and body["sender"] == "egov"
    assert body["text"].startswith("egov-mesh: код для входа ") and "Никому" in body["text"]
    assert "Кодты" not in body["text"]  # Russian only: the language the person signs in in
    # the code the provider delivered is the one that signs in
    r = await svc.client.post(
        "/auth/otp", json={"challenge_id": r.json()["challenge_id"], "code": provider.code()}
    )
    assert r.status_code == 200, r.text
    [row] = await _outbox(svc)
    assert row["sent_at"] is not None and row["failed_at"] is None


async def test_provider_down_login_says_try_again_not_500(
    with_provider: Svc, provider: Provider
) -> None:
    svc = with_provider
    provider.always = 503
    r = await svc.client.post(
        "/auth/login", json={"iin": ALIKHAN, "password": svc.demo_password, "lang": "kk"}
    )
    assert r.status_code == 503, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("/sms-not-sent") and "try again" in problem["detail"]
    assert int(r.headers["Retry-After"]) > 0
    assert len(provider.received) == 3  # SMS_ATTEMPTS tries
    [row] = await _outbox(svc)
    assert row["failed_at"] is not None and row["sent_at"] is None  # given up: no stale code
    # the background loop does not send it later
    provider.always = None
    sender = svc.identity.auth.sms
    assert sender is not None
    assert await deliver_queued(svc.identity.uow, sender, svc.identity.clock, max_attempts=3) == 0
    assert len(provider.received) == 3
    # the provider refusing outright (4xx) is not retried
    provider.always = 400
    r = await svc.client.post("/auth/login", json={"iin": ERGALI, "password": svc.demo_password})
    assert r.status_code == 503 and len(provider.received) == 4


async def test_queued_texts_go_through_the_provider(with_provider: Svc, provider: Provider) -> None:
    """A password reset code is queued (its answer must not depend on the phone) and the
    loop delivers it through the same port."""
    svc = with_provider
    r = await svc.client.post("/auth/password/request", json={"iin": ERGALI, "lang": "en"})
    assert r.status_code == 202

    async def delivered() -> bool:
        return bool(provider.received)

    await eventually(delivered, within=10, what="the reset code at the provider")
    body = provider.received[0]["json"]
    assert body["to"] == ERGALI_PHONE and "password setup code" in body["text"]


async def test_without_a_provider_identity_refuses_to_start(tmp_path: Path) -> None:
    gw = FakeGateway(tmp_path)
    settings = IdentitySettings(
        data_dir=tmp_path,
        dev_mode=False,
        kafka_enabled=False,
        log_json=False,
        gateway_jwks_url=gw.jwks_url,
        signing_key_pem=KeyRing(SigningKey.generate("ES256")).current.private_pem().decode(),
        ca_key_pem=SigningKey.generate("ES256").private_pem().decode(),
    )
    with pytest.raises(Exception, match="IDENTITY_SMS_GATEWAY_URL"):
        async with running(create_app(settings)):
            pass


# -- the dev banner: the code of one challenge ------------------------------------------------
async def test_dev_code_of_a_challenge_shows_only_that_code(svc: Svc) -> None:
    a = await svc.client.post("/auth/login", json={"iin": ALIKHAN, "password": svc.demo_password})
    b = await svc.client.post("/auth/login", json={"iin": ERGALI, "password": svc.demo_password})
    assert a.status_code == b.status_code == 200
    code_a = await svc.last_code(ALIKHAN_PHONE)
    code_b = await svc.last_code(ERGALI_PHONE)
    r = await svc.client.get(f"/dev/sms/challenges/{a.json()['challenge_id']}")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["code"] == code_a and shown["code"] != code_b
    assert shown["sent_to"] == a.json()["sent_to"] and "1234567" not in shown["sent_to"]
    assert set(shown) == {"challenge_id", "sent_to", "purpose", "code", "created_at"}
    # the attacker's tries: no challenge, a made-up one, a decoy reset challenge
    assert (await svc.client.get("/dev/sms/challenges/")).status_code == 404
    assert (await svc.client.get("/dev/sms/challenges/not-a-challenge")).status_code == 404
    decoy = await svc.client.post("/auth/password/request", json={"iin": "040101501007"})
    r = await svc.client.get(f"/dev/sms/challenges/{decoy.json()['challenge_id']}")
    assert r.status_code == 404


# -- consent at a public service centre -------------------------------------------------------
async def _consent_claims(svc: Svc, token: str, audience: str) -> dict[str, Any]:
    jwks = (await svc.client.get("/.well-known/jwks.json")).json()
    claims: dict[str, Any] = await JWKSClient(jwks).verify(token, audience=audience, issuer=ISSUER)
    return claims


async def test_centre_consent_by_the_citizens_code(svc: Svc) -> None:
    operator = (await svc.login(OPERATOR))["access_token"]
    r = await svc.client.post(
        "/auth/centre/consent", json={"iin": ALIKHAN, "actor_token": operator, "lang": "en"}
    )
    assert r.status_code == 200, r.text
    challenge = r.json()["challenge_id"]
    sms = (await svc.client.get("/dev/sms", params={"phone": ALIKHAN_PHONE})).json()[0]
    assert sms["purpose"] == "centre_consent" and "on your behalf" in sms["text"]
    r = await svc.client.post(
        "/auth/centre/consent/answer",
        json={"challenge_id": challenge, "code": sms["code"], "actor_token": operator},
    )
    assert r.status_code == 200, r.text
    given = r.json()
    assert given["citizen"]["iin"] == ALIKHAN and given["citizen"]["given_name"] == "Әлихан"
    assert given["operator"] == OPERATOR and given["centre"] and given["expires_in"] == 600
    claims = await _consent_claims(svc, given["consent_token"], "egov-gateway/centre")
    assert claims["sub"] == ALIKHAN and claims["kind"] == "citizen"
    assert claims["act"] == {"sub": OPERATOR, "kind": "operator", "centre": given["centre"]}
    assert claims["jti"] == given["consent_id"] and claims["exp"] - claims["iat"] == 600
    # it is no ordinary token of the citizen: the mesh's audience refuses it
    with pytest.raises(TokenInvalid):
        await _consent_claims(svc, given["consent_token"], "egov-mesh")
    r = await svc.client.post("/oauth/introspect", data={"token": given["consent_token"]})
    assert r.status_code in (200, 401) and not (r.status_code == 200 and r.json()["active"])
    # the code is used up
    r = await svc.client.post(
        "/auth/centre/consent/answer",
        json={"challenge_id": challenge, "code": sms["code"], "actor_token": operator},
    )
    assert r.status_code == 401


async def test_centre_consent_attackers(svc: Svc) -> None:
    operator = (await svc.login(OPERATOR))["access_token"]
    citizen = (await svc.login(ERGALI))["access_token"]
    # an operator without the centre role (the demo administrator) asks nothing
    admin = await svc.login("820312308607", dev_secret("demo-operator-password", svc.data_dir))
    r = await svc.client.post(
        "/auth/centre/consent", json={"iin": ALIKHAN, "actor_token": admin["access_token"]}
    )
    assert r.status_code == 403
    # a citizen is no operator
    r = await svc.client.post("/auth/centre/consent", json={"iin": ALIKHAN, "actor_token": citizen})
    assert r.status_code == 403
    # no token, a forged one
    forged = jwt.encode({"sub": OPERATOR, "kind": "operator"}, "k" * 32, algorithm="HS256")
    r = await svc.client.post("/auth/centre/consent", json={"iin": ALIKHAN, "actor_token": forged})
    assert r.status_code == 401
    r = await svc.client.post(
        "/auth/centre/consent", json={"iin": ALIKHAN, "actor_token": operator}
    )
    challenge = r.json()["challenge_id"]
    code = await svc.last_code(ALIKHAN_PHONE)
    # a citizen who learnt the code cannot turn it into a consent for themselves
    r = await svc.client.post(
        "/auth/centre/consent/answer",
        json={"challenge_id": challenge, "code": code, "actor_token": citizen},
    )
    assert r.status_code == 403
    # a login challenge is no consent, nor a consent challenge a login
    login = await svc.client.post(
        "/auth/login", json={"iin": ERGALI, "password": svc.demo_password}
    )
    r = await svc.client.post(
        "/auth/centre/consent/answer",
        json={
            "challenge_id": login.json()["challenge_id"],
            "code": await svc.last_code(ERGALI_PHONE),
            "actor_token": operator,
        },
    )
    assert r.status_code == 401
    r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": code})
    assert r.status_code == 401
    # wrong guesses by the operator do not lock the citizen's own login
    for _ in range(3):
        await svc.client.post(
            "/auth/centre/consent/answer",
            json={"challenge_id": challenge, "code": "000000", "actor_token": operator},
        )
    assert (await svc.login(ALIKHAN))["access_token"]
    # a signed-out operator asks nothing
    await svc.client.post("/auth/logout", headers={"Authorization": f"Bearer {operator}"})
    r = await svc.client.post(
        "/auth/centre/consent", json={"iin": ALIKHAN, "actor_token": operator}
    )
    assert r.status_code == 401
