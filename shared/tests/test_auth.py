import time
from typing import Any

import pytest

from meshkit.auth.assertion import AssertionVerifier, sign_assertion
from meshkit.auth.jwks import JWKSClient, TokenInvalid
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.auth.principal import Principal
from meshkit.errors import Unauthenticated


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "idp",
        "aud": "gateway",
        "sub": "900115300122",
        "iat": now,
        "exp": now + 300,
        **extra,
    }


class CountingSource:
    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return self.ring.jwks()


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
async def test_valid_token_verifies(alg: str) -> None:
    ring = KeyRing(SigningKey.generate(alg))  # type: ignore[arg-type]
    client = JWKSClient(CountingSource(ring))
    token = ring.current.sign(claims())
    out = await client.verify(token, audience="gateway", issuer="idp")
    assert out["sub"] == "900115300122"


async def test_expired_wrong_audience_wrong_issuer_forged() -> None:
    ring = KeyRing(SigningKey.generate())
    client = JWKSClient(CountingSource(ring))
    with pytest.raises(TokenInvalid, match="expired"):
        await client.verify(
            ring.current.sign(claims(exp=int(time.time()) - 60)), audience="gateway"
        )
    with pytest.raises(TokenInvalid, match="audience"):
        await client.verify(ring.current.sign(claims(aud="registry")), audience="gateway")
    with pytest.raises(TokenInvalid, match="issuer"):
        await client.verify(ring.current.sign(claims()), audience="gateway", issuer="other")
    forger = SigningKey.generate()
    forger.kid = ring.current.kid  # same kid, different key
    with pytest.raises(TokenInvalid):
        await client.verify(forger.sign(claims()), audience="gateway")
    with pytest.raises(TokenInvalid, match="malformed"):
        await client.verify("not.a.jwt", audience="gateway")


async def test_alg_none_and_hs256_are_refused() -> None:
    import jwt

    ring = KeyRing(SigningKey.generate())
    client = JWKSClient(CountingSource(ring))
    unsigned = jwt.encode(claims(), key=None, algorithm="none", headers={"kid": ring.current.kid})
    with pytest.raises(TokenInvalid):
        await client.verify(unsigned, audience="gateway")
    hs = jwt.encode(claims(), key="x" * 32, algorithm="HS256", headers={"kid": ring.current.kid})
    with pytest.raises(TokenInvalid):
        await client.verify(hs, audience="gateway")


async def test_rotation_old_tokens_verify_new_key_fetched_once() -> None:
    ring = KeyRing(SigningKey.generate())
    source = CountingSource(ring)
    client = JWKSClient(source, min_refresh_s=0)
    old_token = ring.current.sign(claims())
    await client.verify(old_token, audience="gateway")
    assert source.calls == 1
    ring.rotate()
    new_token = ring.current.sign(claims())
    await client.verify(new_token, audience="gateway")  # unknown kid → one refetch
    assert source.calls == 2
    await client.verify(old_token, audience="gateway")  # retired key still published
    await client.verify(new_token, audience="gateway")
    assert source.calls == 2
    ring.retire_older_than(0)
    await client.refresh(force=True)
    with pytest.raises(TokenInvalid, match="unknown key"):
        await client.verify(old_token, audience="gateway")


async def test_unknown_kids_do_not_hammer_the_issuer() -> None:
    ring = KeyRing(SigningKey.generate())
    source = CountingSource(ring)
    client = JWKSClient(source, min_refresh_s=60)
    await client.refresh(force=True)
    stranger = SigningKey.generate()
    for _ in range(20):
        with pytest.raises(TokenInvalid):
            await client.verify(stranger.sign(claims()), audience="gateway")
    assert source.calls == 1


def test_pem_round_trip_and_dev_key_persisted(tmp_path: Any) -> None:
    key = SigningKey.generate("ES256")
    again = SigningKey.from_pem(key.private_pem())
    assert again.kid == key.kid and again.alg == "ES256"
    path = tmp_path / "keys" / "k.pem"
    first = KeyRing.load(pem=None, pem_file=None, dev_mode=True, dev_path=path)
    second = KeyRing.load(pem=None, pem_file=None, dev_mode=True, dev_path=path)
    assert first.current.kid == second.current.kid
    assert (path.stat().st_mode & 0o777) == 0o600
    with pytest.raises(RuntimeError, match="no signing key configured"):
        KeyRing.load(pem=None, pem_file=None, dev_mode=False, dev_path=tmp_path / "none.pem")


async def test_gateway_assertion_binds_method_path_and_request_id() -> None:
    ring = KeyRing(SigningKey.generate())
    verifier = AssertionVerifier(JWKSClient(ring.jwks()), agency="identity")
    token = sign_assertion(
        ring.current,
        agency="identity",
        method="GET",
        path="/persons/900115300122",
        client="registry",
        user="900115300122",
        request_id="req-00000001",
        purpose="birth registration",
    )
    call = await verifier.verify(
        token,
        method="GET",
        path="/persons/900115300122",
        request_id="req-00000001",
        query="",
        body=b"",
    )
    assert call.client == "registry" and call.user == "900115300122"
    assert call.purpose == "birth registration"
    with pytest.raises(Unauthenticated, match="another request"):
        await verifier.verify(
            token,
            method="DELETE",
            path="/persons/900115300122",
            request_id=None,
            query="",
            body=b"",
        )
    with pytest.raises(Unauthenticated, match="another request"):
        await verifier.verify(
            token, method="GET", path="/persons/other", request_id=None, query="", body=b""
        )
    with pytest.raises(Unauthenticated, match="X-Request-Id"):
        await verifier.verify(
            token,
            method="GET",
            path="/persons/900115300122",
            request_id="req-x1234567",
            query="",
            body=b"",
        )
    with pytest.raises(Unauthenticated, match="missing"):
        await verifier.verify(None, method="GET", path="/", request_id=None, query="", body=b"")
    other_agency = AssertionVerifier(JWKSClient(ring.jwks()), agency="payments")
    with pytest.raises(Unauthenticated, match="audience"):
        await other_agency.verify(
            token, method="GET", path="/persons/900115300122", request_id=None, query="", body=b""
        )
    stale = sign_assertion(
        ring.current,
        agency="identity",
        method="GET",
        path="/",
        client="c",
        user=None,
        request_id="req-00000002",
        now=time.time() - 3600,
    )
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(stale, method="GET", path="/", request_id=None, query="", body=b"")


def test_principal_from_claims() -> None:
    p = Principal.from_claims(
        {"sub": "registry", "kind": "agency", "scope": "persons:read births:write"}
    )
    assert p.agency == "registry" and p.iin is None and p.has_scope("persons:read")
    c = Principal.from_claims({"sub": "900115300122", "kind": "citizen"})
    assert c.iin == "900115300122"


async def test_a_replayed_assertion_is_refused() -> None:
    ring = KeyRing(SigningKey.generate())
    verifier = AssertionVerifier(JWKSClient(ring.jwks()), agency="identity")

    def fresh() -> str:
        return sign_assertion(
            ring.current,
            agency="identity",
            method="GET",
            path="/p",
            client="registry",
            user=None,
            request_id="req-replay-0001",
        )

    token = fresh()
    await verifier.verify(
        token, method="GET", path="/p", request_id="req-replay-0001", query="", body=b""
    )
    with pytest.raises(Unauthenticated, match="replay"):
        await verifier.verify(
            token, method="GET", path="/p", request_id="req-replay-0001", query="", body=b""
        )
    # a retry by the gateway signs anew (same request id) and is accepted
    await verifier.verify(
        fresh(), method="GET", path="/p", request_id="req-replay-0001", query="", body=b""
    )


async def test_a_call_bypassing_the_gateway_is_the_agencys_security_event() -> None:
    """Issue 16: an agency refuses a routed endpoint called without (or with a forged) gateway
    assertion — and records it: a security log line with the peer and why, and a counter."""
    import httpx
    import structlog
    from fastapi import Depends, FastAPI

    from meshkit.auth.assertion import RoutedCall, routed_call
    from meshkit.observability import metrics
    from meshkit.problems import install_problem_handlers

    ring = KeyRing(SigningKey.generate())
    app = FastAPI()
    install_problem_handlers(app)
    app.state.assertion_verifier = AssertionVerifier(JWKSClient(ring.jwks()), agency="identity")

    @app.get("/persons/{iin}")
    async def person(iin: str, call: RoutedCall = Depends(routed_call)) -> dict[str, str]:
        return {"iin": iin}

    def refused(reason: str) -> float:
        value = metrics.GATEWAY_BYPASS_REFUSED.labels("identity", reason)._value.get()
        return float(value)

    before = (refused("missing"), refused("rejected"))
    transport = httpx.ASGITransport(app=app)
    with structlog.testing.capture_logs() as logs:
        async with httpx.AsyncClient(transport=transport, base_url="http://identity") as c:
            bare = await c.get("/persons/900115300122")
            forged = await c.get("/persons/900115300122", headers={"X-Mesh-Assertion": "not.a.jwt"})
    assert bare.status_code == 401 and forged.status_code == 401
    assert (refused("missing"), refused("rejected")) == (before[0] + 1, before[1] + 1)
    events = [e for e in logs if e["event"] == "security.gateway_bypass_refused"]
    assert [e["path"] for e in events] == ["/persons/900115300122"] * 2
    assert all(e["agency"] == "identity" and e["peer"] for e in events)
    assert "missing" in events[0]["reason"] and "rejected" in events[1]["reason"]


async def test_the_assertion_binds_the_query_and_the_body() -> None:
    ring = KeyRing(SigningKey.generate())
    verifier = AssertionVerifier(JWKSClient(ring.jwks()), agency="identity")
    common: dict[str, Any] = {"method": "POST", "path": "/consents", "request_id": None}

    def signed(query: str, body: bytes) -> str:
        return sign_assertion(
            ring.current,
            agency="identity",
            method="POST",
            path="/consents",
            client="payments",
            user=None,
            request_id="req-bind-0001",
            query=query,
            body=body,
        )

    token = signed("a=1&b=2", b'{"iin": "900115300122"}')
    with pytest.raises(Unauthenticated, match="another query/body"):
        await verifier.verify(token, **common, query="a=1&b=2", body=b'{"iin": "920308400210"}')
    with pytest.raises(Unauthenticated, match="another query/body"):
        await verifier.verify(token, **common, query="a=1", body=b'{"iin": "900115300122"}')
    with pytest.raises(Unauthenticated, match="another query/body"):
        await verifier.verify(token, **common, query="b=2&a=1", body=b'{"iin": "900115300122"}')
    # refused calls are not remembered: the genuine one still passes (once)
    await verifier.verify(token, **common, query="a=1&b=2", body=b'{"iin": "900115300122"}')
    # no body at all is bound too: the digest of the empty body
    empty = signed("", b"")
    with pytest.raises(Unauthenticated, match="another query/body"):
        await verifier.verify(empty, **common, query="", body=b"{}")
    await verifier.verify(empty, **common, query="", body=b"")
    # an assertion without the claims (an older signer, or a stripped one) is refused
    now = int(time.time())
    for missing in ("htq", "bdh"):
        payload = {
            "iss": "egov-gateway",
            "aud": "identity",
            "sub": "payments",
            "iat": now,
            "exp": now + 60,
            "jti": f"req-no-{missing}",
            "htm": "POST",
            "htu": "/consents",
            "htq": "",
            "bdh": "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
            "nonce": f"n-{missing}",
        }
        del payload[missing]
        with pytest.raises(Unauthenticated, match="does not bind the query and the body"):
            await verifier.verify(ring.current.sign(payload), **common, query="", body=b"")


async def test_routed_endpoints_verify_the_query_and_body_they_receive(tmp_path: Any) -> None:
    """Through ``routed_call``: a POST with a JSON body model and a GET with a query accept
    their genuine assertion (and the endpoint still gets its body), refuse it with another
    body or query (401 problem)."""
    import httpx
    from fastapi import Depends, FastAPI
    from pydantic import BaseModel

    from meshkit.auth.assertion import RoutedCall, routed_call
    from meshkit.problems import install_problem_handlers
    from meshkit_testing.apps import FakeGateway

    class Consent(BaseModel):
        iin: str
        purpose: str

    gw = FakeGateway(tmp_path)
    app = FastAPI()
    install_problem_handlers(app)
    app.state.assertion_verifier = AssertionVerifier(JWKSClient(gw.ring.jwks()), agency="identity")

    @app.post("/consents")
    async def consent(body: Consent, call: RoutedCall = Depends(routed_call)) -> dict[str, str]:
        return {"iin": body.iin, "purpose": body.purpose, "client": call.client}

    @app.get("/search")
    async def search(q: str, call: RoutedCall = Depends(routed_call)) -> dict[str, str]:
        return {"q": q}

    body = {"iin": "900115300122", "purpose": "Әлихан: зейнетақы"}
    other = {**body, "iin": "920308400210"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://identity") as c:
        hdrs = gw.headers("identity", "POST", "/consents", client="payments", json=body)
        r = await c.post("/consents", json=other, headers=hdrs)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        assert "another query/body" in r.json()["detail"]
        r = await c.post("/consents", json=body, headers=hdrs)
        assert r.status_code == 200, r.text
        assert r.json() == {**body, "client": "payments"}

        hdrs = gw.headers("identity", "GET", "/search?q=%D3%99+b", client="payments")
        r = await c.get("/search?q=other", headers=hdrs)
        assert r.status_code == 401 and "another query/body" in r.json()["detail"]
        r = await c.get("/search?q=%D3%99+b", headers=hdrs)
        assert r.status_code == 200 and r.json() == {"q": "ә b"}, r.text

        # FakeGateway.auth signs from the outgoing request itself
        auth = gw.auth("identity", client="payments")
        r = await c.post("/consents", json=other, auth=auth)
        assert r.status_code == 200 and r.json()["iin"] == "920308400210", r.text
        r = await c.get("/search", params={"q": "a&b=c"}, auth=auth)
        assert r.status_code == 200 and r.json() == {"q": "a&b=c"}, r.text
