"""Issue 16, identity's side: revocations announced through the outbox (session.revoked,
signing_key.retired) in the transaction of the change; answers that do not tell whether an
IIN is registered; recovery by phone while password login is locked; per-IIN limits."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from egov_identity.domain.credentials import LOGIN_FAILED
from egov_identity.domain.ratelimit import KeyedTokenBucket
from egov_identity.service_layer.auth import RESET_REQUESTED
from meshkit.auth import JWKSClient, TokenInvalid
from meshkit.contracts.identity import SessionRevoked, SigningKeyRetired
from meshkit.events import registry
from meshkit.ids import check_digit
from meshkit.messaging.tables import outbox_journal

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

ALIKHAN, GULNUR, ERGALI = "900115300122", "920308400210", "851123300454"
Svc = Any  # the conftest's Svc fixture

SESSION_REVOKED = "kz.egov.identity.session.revoked.v1"
KEY_RETIRED = "kz.egov.identity.signing_key.retired.v1"
ALIKHAN_PHONE = "+77011234567"
ERGALI_PHONE = "+77051234569"
ISSUER = "http://127.0.0.1:8001"


def unregistered_iin() -> str:
    """A well-formed IIN nobody in the demo data has."""
    for serial in range(9000, 9999):
        first11 = f"8511233{serial:04d}"
        digit = check_digit(first11)
        if digit is not None:
            return f"{first11}{digit}"
    raise AssertionError("no IIN")


STRANGER = unregistered_iin()


async def outbox_rows(svc: Svc, event_type: str) -> list[dict[str, Any]]:
    """The outbox rows of one event type: what the relay will publish."""
    async with svc.app.state.runtime.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    journal.c.event_type, journal.c.topic, journal.c.message_key, journal.c.payload
                )
                .where(journal.c.event_type == event_type)
                .order_by(journal.c.id)
            )
        ).all()
    found = []
    for row in rows:
        envelope = json.loads(row.payload)
        assert envelope["type"] == row.event_type and row.topic.endswith("egov.identity")
        assert envelope["subject"] == row.message_key and envelope["source"] == "/svc-identity"
        found.append(envelope)
    return found


async def session_events(svc: Svc) -> list[dict[str, Any]]:
    found = await outbox_rows(svc, SESSION_REVOKED)
    for envelope in found:  # every one parses as the registered contract
        assert registry.model_for(envelope["type"]) is SessionRevoked  # registered: publishable
        parsed = SessionRevoked.model_validate(envelope["data"])
        assert envelope["subject"] == parsed.iin and parsed.revoked_at.tzinfo is not None
    return found


def at(envelope: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(envelope["data"]["revoked_at"])


async def introspect(svc: Svc, token: str) -> bool:
    basic = base64.b64encode(f"gateway:{svc.client_secret('gateway')}".encode()).decode()
    r = await svc.client.post(
        "/oauth/introspect", data={"token": token}, headers={"Authorization": f"Basic {basic}"}
    )
    assert r.status_code == 200
    return bool(r.json()["active"])


def sid(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


def tick(clock: Any) -> None:
    clock.advance(seconds=12)  # one attempt's worth of the per-IIN limit (5 a minute)


async def start(svc: Svc, iin: str, password: str) -> Any:
    return await svc.client.post("/auth/login", json={"iin": iin, "password": password})


def same_answer(a: Any, b: Any, *ids: str) -> None:
    """Byte for byte the same answer, once request ids (and the given ids) are masked."""

    def masked(r: Any, extra: str | None) -> tuple[int, bytes, dict[str, str]]:
        body: bytes = r.content.replace(r.headers["x-request-id"].encode(), b"<request-id>")
        if extra:
            body = body.replace(extra.encode(), b"<id>")
        headers = {
            k: v
            for k, v in r.headers.items()
            if k not in ("x-request-id", "date", "traceparent", "content-length")
        }
        return r.status_code, body, headers

    assert masked(a, ids[0] if ids else None) == masked(b, ids[1] if ids else None)


# -- session.revoked ----------------------------------------------------------------------------
async def test_logout_writes_one_event_naming_the_session(svc: Svc) -> None:
    tokens = await svc.login(ALIKHAN)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert await session_events(svc) == []
    assert (await svc.client.post("/auth/logout", headers=auth)).status_code == 204
    [event] = await session_events(svc)
    assert event["subject"] == ALIKHAN
    assert event["data"]["iin"] == ALIKHAN and event["data"]["reason"] == "logout"
    assert event["data"]["session_id"] == sid(tokens["access_token"])
    assert abs((at(event) - datetime.now(UTC)).total_seconds()) < 60
    assert not await introspect(svc, tokens["access_token"])
    # the same token again: the session is already revoked, nothing new to announce
    assert (await svc.client.post("/auth/logout", headers=auth)).status_code == 204
    assert len(await session_events(svc)) == 1
    # logout by refresh token, and RFC 7009 revocation: one event each, its own session
    second = await svc.login(ALIKHAN)
    r = await svc.client.post("/auth/logout", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 204
    third = await svc.login(ALIKHAN)
    r = await svc.client.post("/oauth/revoke", data={"token": third["refresh_token"]})
    assert r.status_code == 200
    events = await session_events(svc)
    assert [(e["data"]["session_id"], e["data"]["reason"]) for e in events[1:]] == [
        (sid(second["access_token"]), "logout"),
        (sid(third["access_token"]), "logout"),
    ]


async def test_refresh_token_reuse_writes_one_event(svc: Svc) -> None:
    tokens = await svc.login(ALIKHAN)
    first = tokens["refresh_token"]
    assert (await svc.client.post("/auth/refresh", json={"refresh_token": first})).is_success
    r = await svc.client.post("/auth/refresh", json={"refresh_token": first})
    assert r.json()["type"].endswith("/refresh-token-reused")
    [event] = await session_events(svc)
    assert event["data"]["reason"] == "refresh_token_reused"
    assert event["data"]["session_id"] == sid(tokens["access_token"])


async def test_password_reset_revokes_every_session_with_one_event(svc: Svc) -> None:
    a = await svc.login(ERGALI)
    b = await svc.login(ERGALI)
    r = await svc.client.post("/auth/password/request", json={"iin": ERGALI})
    code = await svc.last_code(ERGALI_PHONE)
    r = await svc.client.post(
        "/auth/password",
        json={"challenge_id": r.json()["challenge_id"], "code": code, "new_password": "Жаңа-2026"},
    )
    assert r.status_code == 204, r.text
    [event] = await session_events(svc)
    assert event["subject"] == ERGALI and event["data"]["iin"] == ERGALI
    assert event["data"]["session_id"] is None and event["data"]["reason"] == "password_reset"
    for tokens in (a, b):  # every token of the person issued up to revoked_at
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert claims["iat"] <= int(at(event).timestamp())
        assert not await introspect(svc, tokens["access_token"])


async def test_password_change_revokes_every_session_with_one_event(svc: Svc) -> None:
    tokens = await svc.login(ERGALI)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    body = {"current_password": "not-it-1", "new_password": "Жаңа-2026"}
    r = await svc.client.post("/auth/password/change", json=body, headers=auth)
    assert r.status_code == 401 and await session_events(svc) == []
    body["current_password"] = svc.demo_password
    r = await svc.client.post("/auth/password/change", json=body)
    assert r.status_code == 401  # no access token
    r = await svc.client.post("/auth/password/change", json=body, headers=auth)
    assert r.status_code == 204, r.text
    [event] = await session_events(svc)
    assert event["data"]["reason"] == "password_changed" and event["data"]["session_id"] is None
    assert event["data"]["iin"] == ERGALI and not await introspect(svc, tokens["access_token"])
    r = await svc.client.post("/auth/password/change", json=body, headers=auth)
    assert r.status_code == 401  # the session it came from has ended
    assert (await start(svc, ERGALI, "Жаңа-2026")).status_code == 200


async def test_lockout_writes_one_event_for_every_session(svc: Svc) -> None:
    clock = svc.use_clock()
    before = await svc.login(GULNUR)
    for _ in range(5):
        tick(clock)
        assert (await start(svc, GULNUR, "wrong-password-1")).status_code == 401
    [event] = await session_events(svc)
    assert event["data"] == {
        "iin": GULNUR,
        "session_id": None,
        "reason": "account_locked",
        "revoked_at": event["data"]["revoked_at"],
    }
    assert not await introspect(svc, before["access_token"])
    tick(clock)  # failures while locked lock nothing new: no second event
    assert (await start(svc, GULNUR, "wrong-password-1")).status_code == 401
    assert len(await session_events(svc)) == 1


async def test_lockout_can_be_configured_to_keep_sessions(lock_keeps_sessions: Svc) -> None:
    svc = lock_keeps_sessions
    clock = svc.use_clock()
    before = await svc.login(GULNUR)
    for _ in range(5):
        tick(clock)
        assert (await start(svc, GULNUR, "wrong-password-1")).status_code == 401
    tick(clock)
    assert (await start(svc, GULNUR, svc.demo_password)).status_code == 401  # still locked
    assert await session_events(svc) == [] and await introspect(svc, before["access_token"])


async def test_lockout_by_wrong_codes_writes_one_event(svc: Svc) -> None:
    clock = svc.use_clock()
    wrong_answers = 0
    while wrong_answers < 5:
        tick(clock)
        r = await start(svc, ALIKHAN, svc.demo_password)
        assert r.status_code == 200, r.text
        real = await svc.last_code(ALIKHAN_PHONE)
        wrong = "000000" if real != "000000" else "111111"
        for _ in range(min(2, 5 - wrong_answers)):
            tick(clock)
            body = {"challenge_id": r.json()["challenge_id"], "code": wrong}
            answer = await svc.client.post("/auth/otp", json=body)
            wrong_answers += 1
    assert answer.status_code == 429 and answer.json()["type"].endswith("/account-locked")
    [event] = await session_events(svc)
    assert event["data"]["reason"] == "account_locked" and event["data"]["session_id"] is None


async def test_operator_revokes_sessions(svc: Svc) -> None:
    one = await svc.login(ALIKHAN)
    other = await svc.login(ALIKHAN)
    path = f"/persons/{ALIKHAN}/sessions/revoke"
    assert (await svc.client.post(f"/admin{path}")).status_code == 401
    r = await svc.client.post(
        f"/admin{path}",
        json={"session_id": sid(one["access_token"])},
        headers=svc.admin_headers,
    )
    assert r.status_code == 200 and r.json()["revoked"] == 1
    assert not await introspect(svc, one["access_token"])
    assert await introspect(svc, other["access_token"])
    r = await svc.client.post(f"/admin{path}", headers=svc.admin_headers)
    assert r.status_code == 200 and r.json() == {"iin": ALIKHAN, "session_id": None, "revoked": 1}
    r = await svc.client.post(
        f"/admin/persons/{GULNUR}/sessions/revoke",
        json={"session_id": sid(other["access_token"])},
        headers=svc.admin_headers,
    )
    assert r.status_code == 404  # not a session of that person
    events = await session_events(svc)
    assert [(e["data"]["session_id"], e["data"]["reason"]) for e in events] == [
        (sid(one["access_token"]), "operator"),
        (None, "operator"),
    ]


async def test_death_revokes_every_session_once(svc: Svc) -> None:
    await svc.login(ERGALI)
    for _ in range(2):  # a repeated death registration announces nothing new
        r = await svc.routed(
            "POST", f"/persons/{ERGALI}/death", json={"date_of_death": "2026-01-05"}
        )
        assert r.status_code == 200
    [event] = await session_events(svc)
    assert event["data"]["reason"] == "person_deceased" and event["data"]["session_id"] is None


# -- signing_key.retired ------------------------------------------------------------------------
async def jwks_kids(svc: Svc) -> list[str]:
    return [k["kid"] for k in (await svc.client.get("/.well-known/jwks.json")).json()["keys"]]


async def test_plain_rotation_announces_nothing(svc: Svc) -> None:
    r = await svc.client.post("/admin/keys/rotate", headers=svc.admin_headers)
    assert r.status_code == 200 and r.json()["revoked_kids"] == []
    assert len(await jwks_kids(svc)) == 2  # the old key stays published for its tokens
    assert await outbox_rows(svc, KEY_RETIRED) == []


async def test_revoking_a_key_unpublishes_it_and_writes_one_event(svc: Svc) -> None:
    token = (await svc.login(ALIKHAN))["access_token"]
    old = jwt.get_unverified_header(token)["kid"]
    jwks = (await svc.client.get("/.well-known/jwks.json")).json()
    assert (await svc.client.post(f"/admin/keys/{old}/revoke")).status_code == 401
    r = await svc.client.post(f"/admin/keys/{old}/revoke", headers=svc.admin_headers)
    assert r.status_code == 200, r.text
    new = r.json()["new_current_kid"]  # it was the current key: a fresh one signs now
    assert r.json()["kid"] == old and new and new != old
    assert await jwks_kids(svc) == [new]
    [event] = await outbox_rows(svc, KEY_RETIRED)
    assert event["subject"] == old
    data = SigningKeyRetired.model_validate(event["data"])
    assert data.kid == old and data.retired_at.tzinfo is not None
    with pytest.raises(TokenInvalid, match="unknown key"):
        await JWKSClient((await svc.client.get("/.well-known/jwks.json")).json()).verify(
            token, audience="egov-mesh", issuer=ISSUER
        )
    assert await JWKSClient(jwks).verify(token, audience="egov-mesh", issuer=ISSUER)
    assert not await introspect(svc, token)  # identity itself stops accepting it at once
    fresh = (await svc.login(GULNUR))["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] == new and await introspect(svc, fresh)
    # again: nothing changes, nothing is announced; an unknown kid is a 404 problem
    r = await svc.client.post(f"/admin/keys/{old}/revoke", headers=svc.admin_headers)
    assert r.status_code == 200 and r.json()["new_current_kid"] is None
    assert len(await outbox_rows(svc, KEY_RETIRED)) == 1
    r = await svc.client.post("/admin/keys/nope/revoke", headers=svc.admin_headers)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_rotation_with_revoke_previous_writes_one_event(svc: Svc) -> None:
    old = (await jwks_kids(svc))[0]
    r = await svc.client.post(
        "/admin/keys/rotate", params={"revoke_previous": "true"}, headers=svc.admin_headers
    )
    assert r.status_code == 200 and r.json()["revoked_kids"] == [old]
    assert await jwks_kids(svc) == [r.json()["current_kid"]]
    assert [e["data"]["kid"] for e in await outbox_rows(svc, KEY_RETIRED)] == [old]


# -- no account enumeration ------------------------------------------------------------------
async def test_failed_login_is_the_same_answer_for_every_iin(svc: Svc) -> None:
    clock = svc.use_clock()
    calls: list[str] = []
    hasher = svc.identity.auth.hasher
    verify = hasher.verify

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return verify(password_hash, password)

    hasher.verify = counting  # type: ignore[method-assign]
    known = await start(svc, ALIKHAN, "wrong-password-1")
    unknown = await start(svc, STRANGER, "wrong-password-1")
    same_answer(known, unknown)
    assert known.status_code == 401 and known.json()["detail"] == LOGIN_FAILED
    assert known.json()["type"].endswith("/invalid-credentials")
    assert len(calls) == 2  # one argon2 verification each: the same work
    for _ in range(4):  # lock ALIKHAN: the locked answer is the same again
        tick(clock)
        await start(svc, ALIKHAN, "wrong-password-1")
    tick(clock)
    locked = await start(svc, ALIKHAN, svc.demo_password)
    same_answer(locked, unknown)
    assert len(calls) == 7  # checked while locked too: a lock does not answer faster


async def test_reset_request_is_the_same_answer_for_every_iin(svc: Svc) -> None:
    known = await svc.client.post("/auth/password/request", json={"iin": ERGALI})
    unknown = await svc.client.post("/auth/password/request", json={"iin": STRANGER})
    assert known.status_code == 202 and known.json()["detail"] == RESET_REQUESTED
    assert "+7" not in known.text and "*" not in known.text  # never the phone
    same_answer(known, unknown, known.json()["challenge_id"], unknown.json()["challenge_id"])
    # a deceased person (no code goes out) answers the same too
    await svc.routed("POST", f"/persons/{GULNUR}/death", json={"date_of_death": "2026-01-05"})
    dead = await svc.client.post("/auth/password/request", json={"iin": GULNUR})
    same_answer(known, dead, known.json()["challenge_id"], dead.json()["challenge_id"])
    # the next step, with a wrong code, answers alike as well (the unknown IIN got a decoy)
    code = await svc.last_code(ERGALI_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    answers = [
        await svc.client.post(
            "/auth/password",
            json={
                "challenge_id": r.json()["challenge_id"],
                "code": wrong,
                "new_password": "Ab-12345",
            },
        )
        for r in (known, unknown)
    ]
    assert answers[0].status_code == 401 and answers[0].json()["type"].endswith("/otp-invalid")
    same_answer(*answers)


async def test_owner_recovers_by_phone_while_a_stranger_keeps_login_locked(svc: Svc) -> None:
    clock = svc.use_clock()
    for _ in range(5):  # a stranger who knows only the IIN locks password login
        tick(clock)
        await start(svc, ALIKHAN, "guess-password-1")
    tick(clock)
    assert (await start(svc, ALIKHAN, svc.demo_password)).status_code == 401
    # the owner asks for a code; a wrong guess at it does not count toward the lock
    r = await svc.client.post("/auth/password/request", json={"iin": ALIKHAN})
    assert r.status_code == 202
    challenge = r.json()["challenge_id"]
    code = await svc.last_code(ALIKHAN_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    body = {"challenge_id": challenge, "new_password": "Менің-жаңа-2026"}
    tick(clock)
    r = await svc.client.post("/auth/password", json={**body, "code": wrong})
    assert r.status_code == 401 and r.json()["type"].endswith("/otp-invalid")
    assert "account" not in r.json()["detail"]
    tick(clock)
    r = await svc.client.post("/auth/password", json={**body, "code": code})
    assert r.status_code == 204, r.text
    tick(clock)  # the reset unlocked password login (long before the 15 minutes)
    assert (await start(svc, ALIKHAN, "Менің-жаңа-2026")).status_code == 200
    reasons = [e["data"]["reason"] for e in await session_events(svc)]
    assert reasons == ["account_locked", "password_reset"]


# -- per-IIN limits ------------------------------------------------------------------------------
async def test_password_logins_are_limited_per_iin_alike_for_every_iin(svc: Svc) -> None:
    clock = svc.use_clock()
    clock.freeze()  # the Retry-After below is exact however slow the machine
    for _ in range(5):  # the burst: five at once
        assert (await start(svc, GULNUR, "wrong-password-1")).status_code == 401
        assert (await start(svc, STRANGER, "wrong-password-1")).status_code == 401
    known = await start(svc, GULNUR, "wrong-password-1")
    unknown = await start(svc, STRANGER, "wrong-password-1")
    assert known.status_code == 429 and known.json()["type"].endswith("/login-rate-limited")
    assert known.headers["retry-after"] == "12"
    same_answer(known, unknown)
    # another IIN is not affected; time refills the bucket (no sleeping: the clock moves)
    assert (await start(svc, ERGALI, "wrong-password-1")).status_code == 401
    clock.advance(seconds=12)
    assert (await start(svc, STRANGER, "wrong-password-1")).status_code == 401
    assert (await start(svc, STRANGER, "wrong-password-1")).status_code == 429
    # reset requests have a bucket of their own (a stranger's guessing does not block them)
    for _ in range(5):
        r = await svc.client.post("/auth/password/request", json={"iin": STRANGER})
        assert r.status_code == 202
    r = await svc.client.post("/auth/password/request", json={"iin": STRANGER})
    assert r.status_code == 429 and r.headers["retry-after"]


async def test_code_answers_are_limited_per_iin(tight_otp_limit: Svc) -> None:
    svc = tight_otp_limit
    clock = svc.use_clock()
    clock.freeze()  # the Retry-After below is exact however slow the machine
    r = await start(svc, ALIKHAN, svc.demo_password)
    challenge = r.json()["challenge_id"]
    code = await svc.last_code(ALIKHAN_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": wrong})
        assert r.status_code == 401
    r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": code})
    assert r.status_code == 429 and r.json()["type"].endswith("/login-rate-limited")
    assert r.headers["retry-after"] == "60"
    clock.advance(seconds=60)
    r = await svc.client.post("/auth/otp", json={"challenge_id": challenge, "code": code})
    assert r.status_code == 200, r.text  # the refused answer was not spent on the code


def test_token_bucket() -> None:
    bucket = KeyedTokenBucket(rate_per_minute=7.5, burst=2, max_keys=3)
    assert [bucket.take("a", 0.0) for _ in range(3)] == [0, 0, 8]
    assert bucket.take("a", 4.0) == 4  # half a token saved up: 4 s more
    assert bucket.take("a", 8.0) == 0
    assert bucket.take("a", 8.0) == 8
    for key in "bcd":
        assert bucket.take(key, 8.0) == 0
    assert len(bucket) == 3  # bounded: the least recently used key was forgotten
    assert bucket.take("a", 8.0) == 0  # forgotten: a full bucket again
    five = KeyedTokenBucket(rate_per_minute=5, burst=1)
    assert [five.take("x", 0.0), five.take("x", 0.0)] == [0, 12]
    assert five.take("x", 12.0) == 0  # exactly one token after 12 s (no rounding short)
    assert KeyedTokenBucket(0, 5).take("x", 0.0) == 0  # disabled
