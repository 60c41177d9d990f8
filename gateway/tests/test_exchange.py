"""The routed exchange end to end: real agency app + contract doubles behind the gateway,
on SQLite and PostgreSQL (``db_url`` is parametrised in conftest)."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import pytest

from meshkit.auth.assertion import sign_assertion
from meshkit.auth.keys import SigningKey
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.gateway import BINS, CITIZEN, ISSUER, OTHER_CITIZEN, Mesh, start_mesh
from meshkit_testing.polling import eventually

PURPOSE = {"X-Mesh-Purpose": "license application 42: founder check"}


async def test_agency_call_reaches_real_agency_with_assertion_and_is_audited(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "registry:GET /mesh/whoami")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = await mesh.gateway.get(
        "/x/registry/mesh/whoami",
        headers={
            **mesh.agency("licensing"),
            **PURPOSE,
            "X-Mesh-User": CITIZEN,
            "X-Request-Id": "req-e2e-000001",
            "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
        },
    )
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["client"] == "licensing" and seen["user"] == CITIZEN
    assert seen["purpose"] == PURPOSE["X-Mesh-Purpose"] and seen["request_id"] == "req-e2e-000001"
    assert r.headers["x-request-id"] == "req-e2e-000001"
    [rec] = await mesh.audit(request_id="req-e2e-000001")
    assert (rec["client"], rec["agency"], rec["status"], rec["outcome"]) == (
        "licensing",
        "registry",
        200,
        "forwarded",
    )
    assert rec["operation_id"] == "registry:GET /mesh/whoami" and rec["user"] == CITIZEN
    assert rec["response_sha256"] == hashlib.sha256(r.content).hexdigest()
    assert rec["request_sha256"] == hashlib.sha256(b"").hexdigest()


async def test_forwarded_headers_are_the_gateways_not_the_callers(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "identity:GET /persons/{iin}")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = await mesh.gateway.get(
        f"/x/identity/persons/{CITIZEN}?fields=name",
        headers={
            **mesh.agency("licensing"),
            **PURPOSE,
            "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
            "X-Mesh-Client": "registry",  # spoofing attempts
            "X-Mesh-Assertion": "forged",
            "Connection": "keep-alive, X-Secret-Hop",
            "X-Secret-Hop": "must not pass",
            "X-Custom": "passes",
            "Cookie": "session=abc",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["iin"] == CITIZEN and r.json()["seen_by"] == "licensing"
    got = mesh.doubles["identity"].calls[-1]
    h = got["headers"]
    assert "authorization" not in h and "cookie" not in h and "x-secret-hop" not in h
    assert h["x-custom"] == "passes" and h["x-mesh-client"] == "licensing"
    assert h["x-mesh-assertion"] != "forged" and got["query"] == "fields=name"
    parent = h["traceparent"].split("-")
    assert parent[1] == trace_id and parent[2] != "00f067aa0ba902b7"
    assert h["x-request-id"] == r.headers["x-request-id"]
    [rec] = await mesh.audit(request_id=r.headers["x-request-id"])
    assert rec["subject"] == CITIZEN and rec["purpose"] == PURPOSE["X-Mesh-Purpose"]
    assert rec["service_code"] == "identity-person"


async def test_acl_matrix_every_ungranted_pair_is_403_and_audited(mesh: Mesh) -> None:
    callers = ["identity", "registry", "licensing", "payments", "notary"]
    targets = {
        "identity": [("GET", f"/persons/{CITIZEN}"), ("POST", "/echo"), ("GET", "/big")],
        "registry": [("GET", "/mesh/whoami")],
        "payments": [("GET", f"/persons/{CITIZEN}"), ("PUT", "/echo")],
    }
    granted = {("licensing", "registry:GET /mesh/whoami"), ("notary", "identity:POST /echo")}
    for client, op in granted:
        mesh.register.grant(client, op)
    denied = 0
    for caller in callers:
        for agency, calls in targets.items():
            for method, path in calls:
                op_path = "/persons/{iin}" if path.startswith("/persons/") else path
                op_id = f"{agency}:{method} {op_path}"
                rid = f"req-acl-{caller}-{agency}-{method}-{op_path.strip('/').replace('/', '_')}"
                rid = rid.replace("{", "").replace("}", "")
                r = await mesh.gateway.request(
                    method,
                    f"/x/{agency}{path}",
                    content=b"{}" if method != "GET" else None,
                    headers={**mesh.agency(caller), **PURPOSE, "X-Request-Id": rid},
                )
                if (caller, op_id) in granted:
                    assert r.status_code == 200, (caller, op_id, r.text)
                    continue
                denied += 1
                assert r.status_code == 403, (caller, op_id, r.text)
                assert r.headers["content-type"] == PROBLEM_JSON
                assert r.json()["instance"] == rid
                [rec] = await mesh.audit(request_id=rid)
                assert (rec["client"], rec["operation_id"], rec["status"], rec["outcome"]) == (
                    caller,
                    op_id,
                    403,
                    "denied",
                )
    assert denied == len(callers) * 6 - len(granted)
    assert all(not st.calls for name, st in mesh.doubles.items() if name != "identity")
    assert len(mesh.doubles["identity"].calls) == 1  # only the granted POST /echo got through
    assert (await mesh.verify())["ok"] is True


@pytest.mark.parametrize(
    "case", ["forged", "expired", "wrong-audience", "wrong-issuer", "garbage", "no-kind", "missing"]
)
async def test_bad_tokens_are_401_and_audited(mesh: Mesh, case: str) -> None:
    mesh.register.grant("licensing", "registry:GET /mesh/whoami")
    ident = mesh.identity
    tokens: dict[str, str | None] = {
        "forged": ident.token("agency", "licensing", key=SigningKey.generate()),
        "expired": ident.token("agency", "licensing", now=time.time() - 3600, ttl=60),
        "wrong-audience": ident.token("agency", "licensing", aud="someone-else"),
        "wrong-issuer": ident.token("agency", "licensing", iss="http://evil.test"),
        "garbage": "not.a.jwt",
        "no-kind": ident.ring.current.sign(
            {
                "iss": ISSUER,
                "aud": "egov-mesh",
                "sub": "licensing",
                "iat": int(time.time()),
                "exp": int(time.time()) + 60,
            }
        ),
        "missing": None,
    }
    token = tokens[case]
    headers = {"X-Request-Id": f"req-bad-token-{case}", **PURPOSE}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = await mesh.gateway.get("/x/registry/mesh/whoami", headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == PROBLEM_JSON and "www-authenticate" in r.headers
    [rec] = await mesh.audit(request_id=f"req-bad-token-{case}")
    assert rec["status"] == 401 and rec["outcome"] == "unauthenticated"


async def test_rotated_keys_new_key_accepted_removed_key_refused(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "registry:GET /mesh/whoami")
    ident = mesh.identity
    old_token = ident.token("agency", "licensing")
    r = await mesh.gateway.get(
        "/x/registry/mesh/whoami", headers={"Authorization": f"Bearer {old_token}"}
    )
    assert r.status_code == 200
    # rotate: a token signed with the new key is honoured at once (unknown kid → refetch)
    old_jwk = ident.ring.current.public_jwk()
    ident.ring.rotate()
    ident.publish()
    r = await mesh.gateway.get("/x/registry/mesh/whoami", headers=mesh.agency("licensing"))
    assert r.status_code == 200, r.text
    # retire the old key: once the key cache expires, its tokens are refused
    ident.ring.retire_older_than(0)
    ident.publish()
    assert old_jwk not in ident.ring.jwks()["keys"]
    mesh.components.verifier.forget()  # as when the key cache period ends
    fresh_old = ident.token("agency", "licensing", key=None)  # new key still works
    r = await mesh.gateway.get(
        "/x/registry/mesh/whoami", headers={"Authorization": f"Bearer {fresh_old}"}
    )
    assert r.status_code == 200
    r = await mesh.gateway.get(
        "/x/registry/mesh/whoami", headers={"Authorization": f"Bearer {old_token}"}
    )
    assert r.status_code == 401 and "unknown key" in r.json()["detail"]


async def test_calls_that_bypass_the_gateway_are_refused_by_the_agency(mesh: Mesh) -> None:
    r = await mesh.registry_client.get("/mesh/whoami")
    assert r.status_code == 401 and "X-Mesh-Assertion" in r.json()["detail"]
    forged = sign_assertion(
        SigningKey.generate(),
        agency="registry",
        method="GET",
        path="/mesh/whoami",
        client="licensing",
        user=None,
        request_id="req-bypass-0001",
    )
    r = await mesh.registry_client.get(
        "/mesh/whoami", headers={"X-Mesh-Assertion": forged, "X-Request-Id": "req-bypass-0001"}
    )
    assert r.status_code == 401
    # a genuine gateway assertion replayed for another path is refused too
    genuine = sign_assertion(
        mesh.gateway_ring.current,
        agency="registry",
        method="GET",
        path="/persons/1",
        client="licensing",
        user=None,
        request_id="req-bypass-0002",
    )
    r = await mesh.registry_client.get(
        "/mesh/whoami", headers={"X-Mesh-Assertion": genuine, "X-Request-Id": "req-bypass-0002"}
    )
    assert r.status_code == 401
    # and the gateway publishes the key agencies verify against
    r = await mesh.gateway.get("/.well-known/jwks.json")
    assert r.json()["keys"][0]["kid"] == mesh.gateway_ring.current.kid


async def test_citizens_only_citizen_facing_and_only_on_their_own_behalf(mesh: Mesh) -> None:
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=mesh.citizen())
    assert r.status_code == 200, r.text
    call = mesh.doubles["identity"].calls[-1]["call"]
    assert call["client"] == "citizen" and call["user"] == CITIZEN
    r = await mesh.gateway.get(
        f"/x/identity/persons/{CITIZEN}", headers={**mesh.citizen(), "X-Mesh-User": OTHER_CITIZEN}
    )
    assert r.status_code == 403 and "own behalf" in r.json()["detail"]
    r = await mesh.gateway.get("/x/registry/mesh/whoami", headers=mesh.citizen())
    assert r.status_code == 403 and "not open to citizens" in r.json()["detail"]
    r = await mesh.gateway.get("/x/registry/mesh/whoami", headers=mesh.operator())
    assert r.status_code == 403
    denied = [a for a in await mesh.audit(client="citizen") if a["status"] == 403]
    assert len(denied) == 2


async def test_public_operation_needs_no_token(mesh: Mesh) -> None:
    r = await mesh.gateway.get("/x/identity/public-info")
    assert r.status_code == 200 and r.json()["client"] == "anonymous"
    [rec] = await mesh.audit(request_id=r.headers["x-request-id"])
    assert rec["client"] == "anonymous" and rec["status"] == 200


async def test_unknown_agency_and_operation_are_404_problems(mesh: Mesh) -> None:
    for url in ("/x/nobody/persons/1", "/x/identity/no/such/op"):
        r = await mesh.gateway.get(url, headers=mesh.agency("licensing"))
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM_JSON
        [rec] = await mesh.audit(request_id=r.headers["x-request-id"])
        assert rec["outcome"] == "unknown-operation" and rec["operation_id"] is None
    r = await mesh.gateway.delete(
        f"/x/identity/persons/{CITIZEN}", headers=mesh.agency("licensing")
    )
    assert r.status_code == 404


async def test_agency_calls_on_a_data_subject_must_declare_a_purpose(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "identity:GET /persons/{iin}")
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=mesh.agency("licensing"))
    assert r.status_code == 422 and "header.X-Mesh-Purpose" in r.json()["errors"]
    assert not mesh.doubles["identity"].calls


async def test_circuit_breaker_opens_then_half_open_probe_closes_it(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "payments:POST /echo")
    pay = mesh.doubles["payments"]
    pay.fail_with = 500
    hdrs = {**mesh.agency("licensing"), **PURPOSE}
    for _ in range(5):  # threshold: 5 consecutive failures (POST: no retries)
        r = await mesh.gateway.post("/x/payments/echo", content=b"{}", headers=hdrs)
        assert r.status_code == 500
    r = await mesh.gateway.post("/x/payments/echo", content=b"{}", headers=hdrs)
    assert r.status_code == 503 and r.json()["type"].endswith("circuit-open")
    assert int(r.headers["retry-after"]) >= 1
    assert len(pay.calls) == 5  # the open breaker did not call the agency
    [rec] = await mesh.audit(request_id=r.headers["x-request-id"])
    assert rec["outcome"] == "circuit-open" and rec["status"] == 503
    pay.fail_with = None  # the agency recovers; after the cool-down one probe goes through

    async def closed_again() -> bool:
        resp = await mesh.gateway.post("/x/payments/echo", content=b"{}", headers=hdrs)
        return resp.status_code == 200

    await eventually(closed_again, within=5, what="the breaker to let a probe through")
    assert mesh.components.exchange.breakers.states()["payments"] == "closed"
    # a failing probe re-opens it at once
    breaker = mesh.components.exchange.breakers.for_agency("payments")
    for _ in range(5):
        breaker.record(success=False)
    assert breaker.state == "open"
    pay.fail_with = 503

    async def reopened_after_probe() -> bool:
        resp = await mesh.gateway.post("/x/payments/echo", content=b"{}", headers=hdrs)
        return resp.status_code == 503 and breaker.state == "open" and len(pay.calls) == 7

    await eventually(reopened_after_probe, within=5, what="a failed probe to reopen the breaker")


async def test_citizen_rate_limit_answers_429_with_retry_after(mesh: Mesh) -> None:
    buckets = mesh.components.exchange.buckets
    from egov_gateway.exchange.domain.ratelimit import Limit

    buckets._limits["citizen"] = Limit(rate_per_s=0.5, burst=3)
    codes = []
    for _ in range(4):
        r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=mesh.citizen())
        codes.append(r.status_code)
    assert codes == [200, 200, 200, 429]
    assert r.headers["retry-after"] == "2" and r.json()["type"].endswith("rate-limited")
    # another citizen has their own bucket
    r = await mesh.gateway.get(
        f"/x/identity/persons/{OTHER_CITIZEN}", headers=mesh.citizen(OTHER_CITIZEN)
    )
    assert r.status_code == 200


async def test_idempotent_calls_are_retried_others_are_not(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "identity:GET /persons/{iin}")
    mesh.register.grant("licensing", "identity:POST /echo")
    ident = mesh.doubles["identity"]
    hdrs = {**mesh.agency("licensing"), **PURPOSE}
    ident.fail_with, ident.fail_times = 503, 2
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=hdrs)
    assert r.status_code == 200 and len(ident.calls) == 3, r.text
    ident.fail_with, ident.fail_times = 503, 1
    r = await mesh.gateway.post("/x/identity/echo", content=b"{}", headers=hdrs)
    assert r.status_code == 503 and len(ident.calls) == 4


async def test_timeouts_are_504_and_unreachable_agencies_502(mesh: Mesh) -> None:
    from dataclasses import replace

    mesh.register.grant("licensing", "identity:GET /persons/{iin}")
    mesh.register.grant("licensing", "notary:POST /echo")
    member = mesh.register.members["identity"]
    member.operations = [replace(o, timeout_s=0.2) for o in member.operations]
    mesh.register.add_member(member)
    mesh.doubles["identity"].delay_s = 1.0
    hdrs = {**mesh.agency("licensing"), **PURPOSE}
    r = await mesh.gateway.get(f"/x/identity/persons/{CITIZEN}", headers=hdrs)
    assert r.status_code == 504 and r.headers["content-type"] == PROBLEM_JSON
    r2 = await mesh.gateway.post("/x/notary/echo", content=b"{}", headers=hdrs)
    assert r2.status_code == 502 and "could not be reached" in r2.json()["detail"]
    outcomes = {a["request_id"]: a["outcome"] for a in await mesh.audit(client="licensing")}
    assert outcomes[r.headers["x-request-id"]] == "upstream-failed"
    assert outcomes[r2.headers["x-request-id"]] == "upstream-failed"


async def test_request_size_limit_and_streamed_bodies(tmp_path: Any, db_url: str) -> None:
    async for mesh in start_mesh(
        tmp_path,
        db_url,
        max_request_bytes=300_000,
        buffer_request_bytes=1024,
        buffer_response_bytes=4096,
    ):
        mesh.register.grant("licensing", "identity:POST /echo")
        mesh.register.grant("licensing", "identity:GET /big")
        hdrs = {**mesh.agency("licensing"), **PURPOSE}
        r = await mesh.gateway.post("/x/identity/echo", content=b"x" * 300_001, headers=hdrs)
        assert r.status_code == 413 and r.json()["type"].endswith("payload-too-large")

        async def chunked(n: int) -> Any:
            for _ in range(n):
                yield b"y" * 10_000

        r = await mesh.gateway.post("/x/identity/echo", content=chunked(31), headers=hdrs)
        assert r.status_code == 413
        body = bytes(range(256)) * 1000  # 256 kB: streamed upstream, not buffered
        r = await mesh.gateway.post("/x/identity/echo", content=body, headers=hdrs)
        assert r.status_code == 200 and r.json()["sha256"] == hashlib.sha256(body).hexdigest()
        [rec] = await mesh.audit(request_id=r.headers["x-request-id"])
        assert rec["request_sha256"] == hashlib.sha256(body).hexdigest()
        r = await mesh.gateway.get("/x/identity/big", params={"size": 200_000}, headers=hdrs)
        assert r.status_code == 200 and len(r.content) == 200_000
        [rec] = await mesh.audit(request_id=r.headers["x-request-id"])
        assert rec["response_sha256"] == hashlib.sha256(r.content).hexdigest()


async def test_bodies_beyond_the_services_1_mib_default_stream_through(
    tmp_path: Any, db_url: str
) -> None:
    """The exchange limits request bodies by the agency's own limit (here raised to
    GATEWAY_MAX_REQUEST_BYTES, 10 MiB, for identity) and streams them; the 1 MiB buffering
    limit of ordinary endpoints does not apply to it (the fast lane, and the full stack as
    well)."""
    async for mesh in start_mesh(tmp_path, db_url, agency_body_limits={"identity": 10 << 20}):
        mesh.register.grant("licensing", "identity:POST /echo")
        hdrs = {**mesh.agency("licensing"), **PURPOSE}
        body = bytes(range(256)) * 12_288  # 3 MiB
        r = await mesh.gateway.post("/x/identity/echo", content=body, headers=hdrs)
        assert r.status_code == 200, r.text
        assert r.json() == {"sha256": hashlib.sha256(body).hexdigest(), "len": len(body)}
        r = await mesh.gateway.post("/x/identity/echo%00", content=b"{}", headers=hdrs)
        assert r.status_code == 422  # the URL checks still hold on the lane
        r = await mesh.gateway.post(
            "/api/v1/applications", content=b"x" * 1_100_000, headers=mesh.citizen()
        )
        assert r.status_code == 413  # ordinary endpoints keep the 1 MiB default


async def test_xroad_form_same_exchange_with_xroad_headers(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "registry:GET /mesh/whoami")
    # /mesh/whoami belongs to no public service: it is reached as part of ``api``, the
    # member's whole API (test_xroad.py: a service code must run the operation addressed)
    base = f"/r1/KZ/GOV/{BINS['registry']}/registry/api"
    r = await mesh.gateway.get(
        f"{base}/mesh/whoami",
        headers={
            **mesh.agency("licensing"),
            **PURPOSE,
            "X-Road-Client": f"KZ/GOV/{BINS['licensing']}/licensing",
            "X-Road-Id": "xroad-msg-0001",
            "X-Road-UserId": f"KZ{CITIZEN}",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["client"] == "licensing" and r.json()["user"] == CITIZEN
    assert r.headers["x-road-id"] == "xroad-msg-0001" == r.headers["x-request-id"]
    assert r.headers["x-road-service"] == f"KZ/GOV/{BINS['registry']}/registry/api"
    assert r.headers["x-road-client"] == f"KZ/GOV/{BINS['licensing']}/licensing"
    assert (
        r.headers["x-road-request-hash"] == base64.b64encode(hashlib.sha256(b"").digest()).decode()
    )
    [rec] = await mesh.audit(request_id="xroad-msg-0001")
    assert rec["agency"] == "registry" and rec["status"] == 200
    # POST: the request hash covers the body
    mesh.register.grant("licensing", "identity:POST /echo")
    body = '{"name": "Әлия"}'.encode()
    r = await mesh.gateway.post(
        f"/r1/KZ/GOV/{BINS['identity']}/identity/api/echo",
        content=body,
        headers={**mesh.agency("licensing"), **PURPOSE},
    )
    assert r.status_code == 200
    assert base64.b64decode(r.headers["x-road-request-hash"]) == hashlib.sha256(body).digest()
    # another member's identity in X-Road-Client is refused
    r = await mesh.gateway.get(
        f"{base}/mesh/whoami",
        headers={
            **mesh.agency("licensing"),
            "X-Road-Client": f"KZ/GOV/{BINS['payments']}/payments",
        },
    )
    assert r.status_code == 403 and r.headers["x-road-error"].startswith("Client.")
    r = await mesh.gateway.get(
        "/r1/KZ/GOV/999999999999/registry/api/mesh/whoami", headers=mesh.agency("licensing")
    )
    assert r.status_code == 404
    # a service code that is not the operation's service is refused, before the token
    r = await mesh.gateway.get(
        f"/r1/KZ/GOV/{BINS['registry']}/registry/whoami/mesh/whoami",
        headers={**mesh.agency("licensing"), **PURPOSE, "X-Request-Id": "xroad-wrong-svc"},
    )
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["type"].endswith("/unknown-service")
    assert r.headers["x-road-error"] == "Client.unknown-service"
    [rec] = await mesh.audit(request_id="xroad-wrong-svc")
    assert (rec["outcome"], rec["operation_id"], rec["service_code"]) == (
        "unknown-service",
        "registry:GET /mesh/whoami",
        None,
    )


async def test_audit_search_needs_an_operator_and_filters(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "identity:GET /persons/{iin}")
    for iin in (CITIZEN, OTHER_CITIZEN):
        r = await mesh.gateway.get(
            f"/x/identity/persons/{iin}", headers={**mesh.agency("licensing"), **PURPOSE}
        )
        assert r.status_code == 200
    r = await mesh.gateway.get("/api/v1/audit")
    assert r.status_code == 401
    r = await mesh.gateway.get("/api/v1/audit", headers=mesh.agency("licensing"))
    assert r.status_code == 403
    assert [a["subject"] for a in await mesh.audit(subject=CITIZEN)] == [CITIZEN]
    # the two routed calls, and the refused read of the audit log (a security event)
    licensing = await mesh.audit(client="licensing")
    assert [(a["agency"], a["status"]) for a in licensing] == [
        ("gateway", 403),
        ("identity", 200),
        ("identity", 200),
    ]
    assert await mesh.audit(**{"from": "2099-01-01T00:00:00Z"}) == []
    assert (
        len(await mesh.audit(**{"from": "2000-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z"})) == 4
    )
    page = await mesh.gateway.get("/api/v1/audit", params={"limit": 1}, headers=mesh.operator())
    assert page.json()["next_offset"] == 1 and len(page.json()["items"]) == 1


async def test_citizen_sees_who_accessed_their_data(mesh: Mesh) -> None:
    mesh.register.grant("licensing", "identity:GET /persons/{iin}")
    await mesh.gateway.get(
        f"/x/identity/persons/{CITIZEN}", headers={**mesh.agency("licensing"), **PURPOSE}
    )
    await mesh.gateway.get(
        f"/x/identity/persons/{OTHER_CITIZEN}", headers={**mesh.agency("licensing"), **PURPOSE}
    )
    await mesh.gateway.get(
        f"/x/identity/persons/{CITIZEN}", headers=mesh.agency("payments")
    )  # denied
    r = await mesh.gateway.get("/api/v1/me/data-access", headers=mesh.citizen())
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["who"], i["status"]) for i in items] == [("payments", 403), ("licensing", 200)]
    assert items[1]["purpose"] == PURPOSE["X-Mesh-Purpose"]
    assert items[1]["operation"] == "identity:GET /persons/{iin}"
    r = await mesh.gateway.get("/api/v1/me/data-access", headers=mesh.agency("licensing"))
    assert r.status_code == 403
