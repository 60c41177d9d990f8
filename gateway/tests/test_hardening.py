"""Issue 16 at the gateway, as an attacker and a careless caller would try it: revoked sessions,
bodies too large for the agency, limits before authentication, internal addresses, refused
calls to the gateway's own APIs. Real routed exchange in front of the contract doubles and a
real agency, on SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from egov_gateway.exchange.adapters.mandate import issue_mandate
from egov_gateway.exchange.adapters.revocation import SESSION_ENDED, gateway_revocations
from egov_gateway.exchange.service_layer.revocation_handlers import (
    SessionRevoked,
    SigningKeyRetired,
)
from meshkit.events import EventData, TypedEvent, build_envelope
from meshkit.messaging.handlers import dispatch
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.gateway import CITIZEN, OTHER_CITIZEN, Mesh, start_mesh
from meshkit_testing.polling import eventually

PURPOSE = {"X-Mesh-Purpose": "license application 42: founder check"}
POLL_DEADLINE_S = 5.0  # the deny list is refreshed every second (GATEWAY_REVOCATION_POLL_S)


async def deliver(mesh: Mesh, data: EventData) -> None:
    """Hand an identity event to the gateway's handlers as the consumer does (one replica)."""
    runtime = mesh.app.state.runtime
    envelope = build_envelope(data, source="/svc-identity", subject=None)
    typed: TypedEvent[Any] = TypedEvent(envelope=envelope, data=data)
    async with runtime.uow_factory() as uow:
        await dispatch(runtime.handlers, typed, uow)
        await uow.commit()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_with(mesh: Mesh, iin: str, *, sid: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    return mesh.identity.ring.current.sign(
        {
            "iss": "http://identity.test",
            "aud": "egov-mesh",
            "sub": iin,
            "kind": "citizen",
            "scope": "",
            "sid": sid,
            "jti": uuid.uuid4().hex,
            "iat": issued,
            "exp": issued + 600,
        }
    )


def from_address(mesh: Mesh, host: str) -> httpx.AsyncClient:
    """Another TCP peer in front of the same running gateway."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.app, client=(host, 40000)),
        base_url="http://gateway.test",
    )


# -- 1. revocation reaches the gateway within seconds -------------------------------------------
async def _refused(mesh: Mesh, token: str) -> bool:
    me = await mesh.gateway.get("/api/v1/me/applications", headers=bearer(token))
    routed = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=bearer(token))
    return me.status_code == 401 and routed.status_code == 401


async def test_a_revoked_session_ends_at_the_gateway_within_the_polling_period(
    mesh: Mesh,
) -> None:
    mine = token_with(mesh, CITIZEN, sid="sid-revoked")
    my_other_device = token_with(mesh, CITIZEN, sid="sid-other-device")
    someone_else = token_with(mesh, OTHER_CITIZEN, sid="sid-someone-else")
    for token in (mine, my_other_device):  # all three are cached by the verifier now
        r = await mesh.gateway.get("/api/v1/me/applications", headers=bearer(token))
        assert r.status_code == 200, r.text
        r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=bearer(token))
        assert r.status_code == 200, r.text
    r = await mesh.gateway.get(f"/x/identity/persons/{OTHER_CITIZEN}", headers=bearer(someone_else))
    assert r.status_code == 200
    event = SessionRevoked(
        iin=CITIZEN, session_id="sid-revoked", reason="logout", revoked_at=datetime.now(UTC)
    )
    await deliver(mesh, event)
    await deliver(mesh, event)  # redelivered: still one row
    await eventually(
        lambda: _refused(mesh, mine), within=POLL_DEADLINE_S, what="the revoked token to be refused"
    )
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=bearer(mine))
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["detail"] == SESSION_ENDED
    [rec] = await mesh.audit(request_id=r.headers["x-request-id"])
    assert rec["outcome"] == "session-ended" and rec["status"] == 401
    r = await mesh.gateway.get("/api/v1/me/applications", headers=bearer(mine))
    assert r.status_code == 401 and r.json()["detail"] == SESSION_ENDED
    # the same person's other session, and other people, are unaffected
    r = await mesh.gateway.get("/api/v1/me/applications", headers=bearer(my_other_device))
    assert r.status_code == 200
    r = await mesh.gateway.get(f"/x/identity/persons/{OTHER_CITIZEN}", headers=bearer(someone_else))
    assert r.status_code == 200
    async with mesh.app.state.runtime.engine.connect() as conn:
        rows = await conn.scalar(select(func.count()).select_from(gateway_revocations))
    assert rows == 1


async def test_all_sessions_revoked_refuses_older_tokens_and_honours_newer_ones(
    mesh: Mesh,
) -> None:
    now = time.time()
    before = token_with(mesh, CITIZEN, sid="sid-a", now=now - 60)
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=bearer(before))
    assert r.status_code == 200
    revoked_at = datetime.fromtimestamp(now - 5, tz=UTC)
    await deliver(
        mesh,
        SessionRevoked(
            iin=CITIZEN, session_id=None, reason="password_changed", revoked_at=revoked_at
        ),
    )
    await eventually(
        lambda: _refused(mesh, before), within=POLL_DEADLINE_S, what="all sessions to end"
    )
    after = token_with(mesh, CITIZEN, sid="sid-b", now=now - 3)  # signed in again since
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=bearer(after))
    assert r.status_code == 200, r.text
    r = await mesh.gateway.get("/api/v1/me/applications", headers=bearer(after))
    assert r.status_code == 200, r.text
    other = token_with(mesh, OTHER_CITIZEN, sid="sid-c", now=now - 60)
    r = await mesh.gateway.get(f"/x/identity/persons/{OTHER_CITIZEN}", headers=bearer(other))
    assert r.status_code == 200
    # the single window's mandate for the applicant is no session: the application goes on
    mandate = issue_mandate(
        mesh.gateway_ring.current,
        applicant_iin=CITIZEN,
        application_id="5b0f3f6e-0000-4000-8000-000000000016",
        service_code="identity-person",
    )
    r = await mesh.gateway.get(
        f"/x/identity/persons/{CITIZEN}",
        headers={**bearer(mandate), "X-Mesh-Purpose": "application: step applicant"},
    )
    assert r.status_code == 200, r.text


async def test_a_retired_signing_key_drops_cached_keys_and_tokens(mesh: Mesh) -> None:
    token = token_with(mesh, CITIZEN, sid="sid-k")
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=bearer(token))
    assert r.status_code == 200
    verifier = mesh.components.verifier
    assert token in verifier._cache
    old_kid = mesh.identity.ring.current.kid
    mesh.identity.ring.rotate()
    mesh.identity.ring.retire_older_than(0)
    mesh.identity.publish()
    await deliver(mesh, SigningKeyRetired(kid=old_kid, retired_at=datetime.now(UTC)))

    async def dropped() -> bool:
        return token not in verifier._cache

    await eventually(dropped, within=POLL_DEADLINE_S, what="the verifier to forget")
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=bearer(token))
    assert r.status_code == 401 and "unknown key" in r.json()["detail"]


async def test_a_replica_starting_later_loads_the_revocations(tmp_path: Path, db_url: str) -> None:
    """The table is the truth: what one replica's handler recorded, another one refuses."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async for first in start_mesh(tmp_path / "a", db_url):
        await deliver(
            first,
            SessionRevoked(
                iin=CITIZEN,
                session_id="sid-gone",
                reason="account_locked",
                revoked_at=datetime.now(UTC),
            ),
        )
        async for second in start_mesh(tmp_path / "b", db_url):
            token = second.identity.token("citizen", CITIZEN)
            sid_token = token_with(second, CITIZEN, sid="sid-gone")
            r = await second.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=bearer(token))
            assert r.status_code == 200
            r = await second.gateway.get(
                f"/x/identity/persons/{CITIZEN}", headers=bearer(sid_token)
            )
            assert r.status_code == 401 and r.json()["detail"] == SESSION_ENDED


# -- 2. each operation's body limit; the caller's failures never open the breaker ---------------
async def test_oversize_bodies_are_413_at_the_gateway_and_never_open_the_breaker(
    mesh: Mesh,
) -> None:
    mesh.register.grant("licensing", "identity:POST /echo")
    hdrs = {**mesh.citizen(), **PURPOSE}
    agency = {**mesh.agency("licensing"), **PURPOSE}
    three_mb = b"{" + b" " * (3 * 1024 * 1024) + b"}"
    for _ in range(5):
        r = await mesh.gateway.post("/x/identity/echo", content=three_mb, headers=agency)
        assert r.status_code == 413, r.text
        assert r.json()["type"].endswith("payload-too-large") and "1048576" in r.json()["detail"]

    async def chunked() -> Any:
        for _ in range(40):
            yield b" " * 32_768  # 1.25 MiB without a Content-Length

    for _ in range(5):
        r = await mesh.gateway.post("/x/identity/echo", content=chunked(), headers=agency)
        assert r.status_code == 413, r.text
    assert not mesh.doubles["identity"].calls  # nothing reached the agency
    assert mesh.components.exchange.breakers.states().get("identity", "closed") == "closed"
    # the agency's own 4xx answers are the caller's doing too
    mesh.doubles["identity"].fail_with = 422
    for _ in range(6):
        r = await mesh.gateway.post("/x/identity/echo", content=b"{}", headers=agency)
        assert r.status_code == 422
    mesh.doubles["identity"].fail_with = None
    assert mesh.components.exchange.breakers.states()["identity"] == "closed"
    # the next caller (a citizen, another client) is served
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=hdrs)
    assert r.status_code == 200, r.text
    r = await mesh.gateway.post("/x/identity/echo", content=b"{}", headers=agency)
    assert r.status_code == 200
    records = await mesh.audit(client="licensing")
    assert sum(1 for a in records if a["status"] == 413) == 10


async def _disconnecting_upload(app: Any, headers: list[tuple[bytes, bytes]]) -> list[Any]:
    """A POST whose caller goes away after the first 100 kB of a streamed body."""
    sent: list[Any] = []
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b" " * 100_000, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/x/identity/echo",
        "raw_path": b"/x/identity/echo",
        "query_string": b"",
        "headers": headers,
        "client": ("10.1.1.1", 5000),
        "server": ("gateway.test", 80),
    }
    await app(scope, receive, send)
    return sent


async def test_a_caller_that_disconnects_mid_body_does_not_count(
    tmp_path: Path, db_url: str
) -> None:
    async for mesh in start_mesh(tmp_path, db_url, breaker_failure_threshold=2):
        mesh.register.grant("licensing", "identity:POST /echo")
        exchange = mesh.components.exchange
        headers = [
            (b"host", b"gateway.test"),
            (b"content-type", b"application/json"),
            *[(k.lower().encode(), v.encode()) for k, v in mesh.agency("licensing").items()],
            *[(k.lower().encode(), v.encode()) for k, v in PURPOSE.items()],
        ]
        for _ in range(3):
            sent = await _disconnecting_upload(mesh.app, headers)
            assert all(m.get("status", 499) != 500 for m in sent)
        assert exchange.breakers.states().get("identity", "closed") == "closed"
        r = await mesh.gateway.post(
            "/x/identity/echo", content=b"{}", headers={**mesh.agency("licensing"), **PURPOSE}
        )
        assert r.status_code == 200


# -- 3. limits before authentication, per source address -----------------------------------------
async def test_x_forwarded_for_rotation_does_not_escape_without_a_trusted_proxy(
    tmp_path: Path, db_url: str
) -> None:
    async for mesh in start_mesh(
        tmp_path, db_url, rate_limit_source_rps=0.01, rate_limit_source_burst=5
    ):
        codes = []
        for i in range(10):
            r = await mesh.gateway.get(
                "/x/identity/no/such/operation",
                headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"198.51.100.{i}"},
            )
            codes.append(r.status_code)
        assert codes == [404] * 5 + [429] * 5
        assert int(r.headers["retry-after"]) >= 1 and r.json()["type"].endswith("rate-limited")
        # /api/v1/* and the portal are limited by the same bucket of the same address
        r = await mesh.gateway.get("/api/v1/me/applications", headers=mesh.citizen())
        assert r.status_code == 429 and "retry-after" in r.headers
        assert r.headers["content-type"] == PROBLEM_JSON
        # another address has its own bucket
        async with from_address(mesh, "192.0.2.10") as other:
            r = await other.get("/api/v1/me/applications", headers=mesh.citizen())
            assert r.status_code == 200, r.text


async def test_behind_a_trusted_proxy_the_forwarded_client_is_the_source(
    tmp_path: Path, db_url: str
) -> None:
    async for mesh in start_mesh(
        tmp_path,
        db_url,
        trusted_proxies="127.0.0.0/8, 10.0.0.0/8",
        rate_limit_source_rps=0.01,
        rate_limit_source_burst=3,
    ):
        # distinct clients behind the proxy: each its own bucket
        for i in range(6):
            r = await mesh.gateway.get(
                "/x/identity/public-info", headers={"X-Forwarded-For": f"203.0.113.{i}"}
            )
            assert r.status_code == 200, r.text
        # one client, whatever it writes to the left of what the proxies appended
        codes = []
        for i in range(5):
            r = await mesh.gateway.get(
                "/x/identity/public-info",
                headers={"X-Forwarded-For": f"6.6.6.{i}, 203.0.113.77, 10.0.0.5"},
            )
            codes.append(r.status_code)
        assert codes == [200, 200, 200, 429, 429]
        # a peer that is not a trusted proxy: its X-Forwarded-For is ignored
        async with from_address(mesh, "192.0.2.99") as direct:
            codes = []
            for i in range(5):
                r = await direct.get(
                    "/x/identity/public-info", headers={"X-Forwarded-For": f"203.0.114.{i}"}
                )
                codes.append(r.status_code)
            assert codes == [200, 200, 200, 429, 429]


async def test_bad_tokens_from_one_source_are_429_after_the_burst_and_not_audited_each(
    mesh: Mesh,
) -> None:
    mesh.register.grant("licensing", "registry:GET /mesh/whoami")
    async with from_address(mesh, "192.0.2.66") as attacker:
        codes = []
        for i in range(150):
            r = await attacker.get(
                "/x/registry/mesh/whoami", headers={"Authorization": f"Bearer forged.{i}.token"}
            )
            codes.append(r.status_code)
        assert codes[:20] == [401] * 20  # GATEWAY_RATE_LIMIT_SOURCE_FAILURES_BURST
        assert set(codes[20:]) == {429}
        assert int(r.headers["retry-after"]) >= 1
        # a valid caller from the same address is refused meanwhile (before its token is read)
        r = await attacker.get("/x/registry/mesh/whoami", headers=mesh.agency("licensing"))
        assert r.status_code == 429
    # other addresses are served
    r = await mesh.gateway.get("/x/registry/mesh/whoami", headers=mesh.agency("licensing"))
    assert r.status_code == 200
    records = [a for a in await mesh.audit(client="anonymous", limit=500)]
    assert sum(1 for a in records if a["status"] == 401) == 20
    assert sum(1 for a in records if a["outcome"] == "source-limited") == 1  # summarised


async def test_an_agencys_401s_spend_the_failure_budget_of_the_source(mesh: Mesh) -> None:
    """Password guessing through the routed login: identity answers 401, the gateway counts."""
    double = mesh.doubles["identity"]
    mesh.register.grant("licensing", "identity:POST /echo")
    double.fail_with = 401
    async with from_address(mesh, "192.0.2.45") as guesser:
        codes = [
            (
                await guesser.post(
                    "/x/identity/echo",
                    content=b"{}",
                    headers={**mesh.agency("licensing"), **PURPOSE},
                )
            ).status_code
            for _ in range(25)
        ]
    assert codes == [401] * 20 + [429] * 5


async def test_the_gateways_own_api_is_limited_per_source(tmp_path: Path, db_url: str) -> None:
    async for mesh in start_mesh(
        tmp_path, db_url, rate_limit_source_rps=0.01, rate_limit_source_burst=4
    ):
        headers = mesh.citizen()
        codes = [
            (await mesh.gateway.get("/api/v1/me/applications", headers=headers)).status_code
            for _ in range(6)
        ]
        assert codes == [200] * 4 + [429] * 2


async def test_failed_admin_tokens_spend_the_failure_budget(tmp_path: Path, db_url: str) -> None:
    async for mesh in start_mesh(tmp_path, db_url, rate_limit_source_failures_burst=3):
        async with from_address(mesh, "192.0.2.7") as guesser:
            codes = [
                (
                    await guesser.get(
                        "/api/v1/admin/grants", headers={"Authorization": f"Bearer guess-{i}"}
                    )
                ).status_code
                for i in range(5)
            ]
        assert codes == [401, 401, 401, 429, 429]  # guesses are no operator's token either


# -- 4. leaks and audit gaps -----------------------------------------------------------------------
async def test_an_agencys_redirect_never_shows_its_internal_address(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "registry:GET /mesh/whoami")
    r = await mesh.gateway.get(
        "/x/registry/mesh/whoami/",
        headers={**mesh.agency("licensing"), **PURPOSE},
        follow_redirects=False,
    )
    if r.status_code in (301, 302, 307, 308):
        location = r.headers["location"]
        assert "registry.local" not in location and location == "/x/registry/mesh/whoami"
    else:  # the register may already refuse the slashed path: still no address
        assert r.status_code == 404, r.text
    assert "registry.local" not in r.text
    r = await mesh.gateway.get(
        f"/x/identity/persons/{CITIZEN}/", headers=mesh.citizen(), follow_redirects=False
    )
    assert "identity.local" not in r.headers.get("location", "") and "identity.local" not in r.text


@pytest.mark.parametrize(
    "location,expected",
    [
        ("http://identity.local/persons/1", "/x/identity/persons/1"),
        ("http://identity.local/persons/1?x=1", "/x/identity/persons/1?x=1"),
        ("/persons/1", "/x/identity/persons/1"),
        ("http://10.0.0.5:8001/persons/1", None),
        ("persons/1", "persons/1"),
    ],
)
def test_location_headers_are_mapped_to_the_gateways_paths(
    location: str, expected: str | None
) -> None:
    from egov_gateway.exchange.domain.register_port import ResolvedOperation
    from egov_gateway.exchange.service_layer.exchange import Call, RoutedExchange

    exchange = RoutedExchange.__new__(RoutedExchange)
    op = ResolvedOperation(
        "identity",
        "1",
        "GOV",
        "active",
        "http://identity.local",
        "identity:GET /persons/{iin}",
        "GET",
        "/persons/{iin}",
        {},
        None,
        True,
        False,
        None,
        None,
    )
    call = Call(
        request=None,  # type: ignore[arg-type]
        request_id="r",
        agency="identity",
        agency_path="/persons/1/",
        raw_target=b"/persons/1/",
        op=op,
        prefix="/x/identity",
    )
    out = exchange.public_locations(call, [(b"location", location.encode()), (b"x-a", b"b")])
    got = [v.decode() for k, v in out if k == b"location"]
    assert got == ([expected] if expected is not None else [])
    assert (b"x-a", b"b") in out


async def test_refused_admin_calls_and_audit_reads_are_audited(mesh: Mesh) -> None:
    r = await mesh.gateway.get("/api/v1/admin/members", headers={"X-Request-Id": "req-adm-none"})
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM_JSON
    r = await mesh.gateway.get(
        "/api/v1/admin/members",
        headers={"Authorization": "Bearer wrong", "X-Request-Id": "req-adm-wrong"},
    )
    assert r.status_code == 401  # neither break-glass nor an operator's token
    r = await mesh.gateway.get(
        "/api/v1/admin/members", headers={**mesh.citizen(), "X-Request-Id": "req-adm-citizen"}
    )
    assert r.status_code == 403
    r = await mesh.gateway.get(
        "/api/v1/audit", headers={**mesh.citizen(), "X-Request-Id": "req-audit-citizen"}
    )
    assert r.status_code == 403
    r = await mesh.gateway.get(
        "/api/v1/audit/verify",
        headers={**mesh.agency("licensing"), "X-Request-Id": "req-verify-agency"},
    )
    assert r.status_code == 403
    r = await mesh.gateway.get("/api/v1/audit", headers={"X-Request-Id": "req-audit-anon"})
    assert r.status_code == 401
    [rec] = await mesh.audit(request_id="req-adm-none")
    assert (rec["client"], rec["status"], rec["outcome"], rec["path"], rec["agency"]) == (
        "anonymous",
        401,
        "admin-unauthenticated",
        "/api/v1/admin/members",
        "gateway",
    )
    [rec] = await mesh.audit(request_id="req-adm-wrong")
    assert (rec["status"], rec["outcome"]) == (401, "admin-unauthenticated")
    [rec] = await mesh.audit(request_id="req-adm-citizen")
    assert (rec["client"], rec["user"], rec["status"], rec["outcome"]) == (
        "citizen",
        CITIZEN,
        403,
        "admin-denied",
    )
    [rec] = await mesh.audit(request_id="req-audit-citizen")
    assert (rec["client"], rec["user"], rec["status"], rec["outcome"], rec["path"]) == (
        "citizen",
        CITIZEN,
        403,
        "denied",
        "/api/v1/audit",
    )
    [rec] = await mesh.audit(request_id="req-verify-agency")
    assert (rec["client"], rec["status"]) == ("licensing", 403)
    [rec] = await mesh.audit(request_id="req-audit-anon")
    assert (rec["client"], rec["status"], rec["outcome"]) == ("anonymous", 401, "unauthenticated")
    assert (await mesh.verify())["ok"] is True
