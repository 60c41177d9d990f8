"""The routed exchange's steps, each alone: a Call, fakes of the ports it names, no gateway."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from egov_gateway.exchange.domain.breaker import Breakers
from egov_gateway.exchange.domain.headers import XRoadService
from egov_gateway.exchange.domain.ratelimit import Limit as BucketLimit
from egov_gateway.exchange.domain.ratelimit import TokenBuckets
from egov_gateway.exchange.domain.register_port import ResolvedOperation
from egov_gateway.exchange.service_layer.call import Call
from egov_gateway.exchange.service_layer.forward import Forward
from egov_gateway.exchange.service_layer.steps import (
    Authenticate,
    Authorize,
    CheckSize,
    Limit,
    Refusal,
    Resolve,
    Sign,
)
from egov_gateway.settings import GatewaySettings
from meshkit.auth.assertion import ASSERTION_HEADER
from meshkit.auth.jwks import TokenInvalid
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.auth.principal import Principal

OP = ResolvedOperation(
    agency="registry",
    member_code="000000000001",
    member_class="GOV",
    member_status="active",
    base_url="http://registry.test",
    operation_id="registry:GET /persons/{iin}",
    method="GET",
    path_template="/persons/{iin}",
    path_params={"iin": "900101300001"},
    service_code="svc-person",
    citizen_facing=True,
    public=False,
    subject_param="iin",
    subject_value="900101300001",
    service_codes=("svc-person",),
)


def call(headers: dict[str, str] | None = None, *, method: str = "GET") -> Call:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": "/x/registry/persons/900101300001",
        "raw_path": b"/x/registry/persons/900101300001",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("10.0.0.1", 1234),
        "state": {"request_id": "req-1"},
    }
    return Call(
        request=Request(scope),
        request_id="req-1",
        agency="registry",
        agency_path="/persons/900101300001",
        raw_target=b"/persons/900101300001",
    )


class FakeRegister:
    def __init__(self, op: ResolvedOperation | None = OP, *, granted: bool = False) -> None:
        self.op = op
        self.granted = granted
        self.asked: list[tuple[str, str]] = []

    async def resolve(
        self, agency: str, method: str, path: str, query: dict[str, str]
    ) -> ResolvedOperation | None:
        return self.op

    async def is_granted(self, client_agency: str, operation_id: str) -> bool:
        self.asked.append((client_agency, operation_id))
        return self.granted

    async def agency_for_xroad(
        self, instance: str, member_class: str, member_code: str, subsystem: str
    ) -> str | None:
        return subsystem if member_code == OP.member_code else None

    async def runs(self, service_code: str, operation_id: str) -> bool:
        return False


class FakeVerifier:
    def __init__(self, principal: Principal | None = None, error: str | None = None) -> None:
        self._principal = principal
        self._error = error

    async def principal(self, authorization: str | None, *, mandates: Any = None) -> Any:
        if self._error:
            raise TokenInvalid(self._error)
        return self._principal


CITIZEN = Principal(kind="citizen", subject="900101300001")
AGENCY = Principal(kind="agency", subject="licensing")


async def test_resolve_refuses_an_unknown_operation_and_names_it() -> None:
    c = call({"X-Mesh-Purpose": "  checking  "})
    refusal = await Resolve(lambda: FakeRegister(None))(c)
    assert refusal is not None and (refusal.status, refusal.code) == (404, "unknown-operation")
    assert "GET /persons/900101300001" in refusal.detail
    assert c.purpose == "checking"  # read before the lookup: a refusal is audited with it


async def test_resolve_sets_the_operation_and_an_xroad_service_must_run_it() -> None:
    c = call()
    assert await Resolve(lambda: FakeRegister())(c) is None
    assert c.op == OP
    c = call()
    c.xroad = XRoadService("KZ", "GOV", OP.member_code, "registry", "svc-other")
    refusal = await Resolve(lambda: FakeRegister())(c)
    assert refusal is not None and refusal.code == "unknown-service"
    assert c.op is not None and c.op.service_code is None  # no service was used


async def test_authenticate_refuses_a_bad_token_even_on_a_public_operation() -> None:
    c = call()
    c.op = dataclasses.replace(OP, public=True)
    refusal = await Authenticate(FakeVerifier(error="expired"))(c)  # type: ignore[arg-type]
    assert refusal is not None and refusal.status == 401 and refusal.detail == "expired"
    assert refusal.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}


async def test_authenticate_needs_a_token_off_public_operations_and_names_the_client() -> None:
    c = call()
    c.op = OP
    refusal = await Authenticate(FakeVerifier(None))(c)  # type: ignore[arg-type]
    assert refusal is not None and refusal.headers == {"WWW-Authenticate": "Bearer"}
    c = call()
    c.op = OP
    assert await Authenticate(FakeVerifier(AGENCY))(c) is None  # type: ignore[arg-type]
    assert (c.principal, c.client) == (AGENCY, "licensing")


async def test_limit_spends_the_clients_bucket_then_refuses_with_retry_after() -> None:
    buckets = TokenBuckets({"agency": BucketLimit(rate_per_s=1, burst=1)}, clock=lambda: 0.0)
    step = Limit(buckets, lambda c: "10.0.0.1")
    c = call()
    c.principal, c.client = AGENCY, "licensing"
    assert await step(c) is None
    refusal = await step(c)
    assert refusal is not None and refusal.status == 429
    assert refusal.headers is not None and int(refusal.headers["Retry-After"]) >= 1


async def test_authorize_an_agency_needs_its_grant() -> None:
    register = FakeRegister(granted=False)
    step = Authorize(lambda: register, require_purpose=False)
    c = call({"X-Mesh-User": "900101300001"})
    c.op, c.principal, c.client = OP, AGENCY, "licensing"
    refusal = await step(c)
    assert refusal is not None and (refusal.status, refusal.outcome) == (403, "denied")
    assert register.asked == [("licensing", OP.operation_id)]
    register.granted = True
    c = call({"X-Mesh-User": "900101300001"})
    c.op, c.principal, c.client = OP, AGENCY, "licensing"
    assert await step(c) is None


async def test_authorize_a_citizens_refusal_is_audited_as_theirs() -> None:
    step = Authorize(lambda: FakeRegister(), require_purpose=False)
    c = call()
    c.op = dataclasses.replace(OP, citizen_facing=False)
    c.principal, c.client = CITIZEN, "citizen"
    refusal = await step(c)
    assert refusal is not None and refusal.status == 403
    assert c.user == CITIZEN.subject


async def test_authorize_an_xroad_client_must_be_the_authenticated_agency() -> None:
    step = Authorize(lambda: FakeRegister(granted=True), require_purpose=False)
    c = call({"X-Road-Client": "not-an-id"})
    c.xroad = XRoadService("KZ", "GOV", OP.member_code, "registry", "api")
    c.op, c.principal, c.client = OP, AGENCY, "licensing"
    refusal = await step(c)
    assert refusal is not None and refusal.status == 422
    c = call({"X-Road-Client": f"KZ/GOV/{OP.member_code}/registry"})
    c.xroad = XRoadService("KZ", "GOV", OP.member_code, "registry", "api")
    c.op, c.principal, c.client = OP, AGENCY, "licensing"
    refusal = await step(c)  # that subsystem is registry, the token licensing's
    assert refusal is not None and refusal.status == 403 and "licensing" in refusal.detail


@pytest.mark.parametrize(
    ("length", "refused"),
    [("10", False), ("100", False), ("101", True), ("9" * 30, True)],
)
async def test_check_size_refuses_a_declared_body_over_the_agencys_limit(
    length: str, refused: bool
) -> None:
    c = call({"Content-Length": length}, method="POST")
    c.op = OP
    refusal = await CheckSize(lambda agency: 100)(c)
    assert (refusal is not None) is refused
    assert c.body_limit == 100
    if refusal is not None:
        assert refusal.status == 413 and c.declared is not None and c.declared > 100


def test_sign_makes_a_fresh_assertion_per_delivery() -> None:
    ring = KeyRing(current=SigningKey.generate())
    sign = Sign(lambda: ring)
    c = call()
    c.op, c.client = OP, "licensing"
    first, second = sign(c), sign(c)
    assert first[0] == second[0] == ASSERTION_HEADER
    assert first[1] != second[1]  # a new nonce: agencies refuse a replayed one


# -- forward, alone: a mock transport for the agency ------------------------------------------


def forwarder(handler: Any, *, threshold: int = 5, retries: int = 0) -> tuple[Forward, Breakers]:
    settings = GatewaySettings(upstream_retries=retries, upstream_retry_backoff_s=0.0)
    breakers = Breakers(failure_threshold=threshold, cooldown_s=60)
    ring = KeyRing(current=SigningKey.generate())
    forward = Forward(
        settings,
        transport=httpx.MockTransport(handler),
        breakers=breakers,
        sign=Sign(lambda: ring),
    )
    return forward, breakers


def routed_call() -> Call:
    c = call({"X-Mesh-User": "900101300001", "Cookie": "session=of-the-caller"})
    c.op, c.client, c.user, c.purpose = OP, "licensing", "900101300001", "checking"
    return c


async def test_forward_sends_the_gateways_headers_and_a_fresh_assertion() -> None:
    seen: list[httpx.Request] = []

    def agency(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    forward, _ = forwarder(agency)
    answer = await forward(routed_call())
    assert isinstance(answer, httpx.Response) and answer.status_code == 200
    sent = seen[0].headers
    assert sent["x-mesh-client"] == "licensing" and sent["x-request-id"] == "req-1"
    assert sent["x-mesh-purpose"] == "checking" and ASSERTION_HEADER.lower() in sent
    assert "cookie" not in sent  # the caller's cookies never reach an agency
    assert str(seen[0].url) == "http://registry.test/persons/900101300001"


async def test_forward_retries_an_idempotent_call_then_refuses_with_the_failure() -> None:
    calls = 0

    def down(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused", request=request)

    forward, breakers = forwarder(down, retries=2)
    refusal = await forward(routed_call())
    assert isinstance(refusal, Refusal)
    assert (refusal.status, refusal.code, refusal.outcome) == (
        502,
        "upstream-unreachable",
        "upstream-failed",
    )
    assert calls == 3  # one call and two retries
    assert breakers.states()["registry"] == "closed"  # 3 failures < the threshold of 5


async def test_forward_refuses_at_once_while_the_breaker_is_open() -> None:
    calls = 0

    def failing(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503)

    forward, breakers = forwarder(failing, threshold=1)
    first = await forward(routed_call())
    assert isinstance(first, httpx.Response) and first.status_code == 503
    assert breakers.states()["registry"] == "open"
    refusal = await forward(routed_call())
    assert isinstance(refusal, Refusal) and refusal.code == "circuit-open"
    assert refusal.headers is not None and "Retry-After" in refusal.headers
    assert calls == 1  # the open breaker kept the second call from the agency
