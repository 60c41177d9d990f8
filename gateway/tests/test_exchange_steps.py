"""The routed exchange's steps, each alone: a Call, fakes of the ports it names, no gateway."""

from __future__ import annotations

import dataclasses
import hashlib
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
from egov_gateway.exchange.service_layer.exchange import _Relay
from egov_gateway.exchange.service_layer.forward import (
    AgencyFailed,
    Forward,
    ReadBody,
    _Spooled,
    attempt_failed,
    upstream_headers,
)
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


def call(
    headers: dict[str, str] | None = None,
    *,
    method: str = "GET",
    body: list[bytes] | None = None,
    disconnect: bool = False,
) -> Call:
    """A call whose caller sends ``body`` in these chunks (then goes away if ``disconnect``)."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": i + 1 < len(body or [])}
        for i, chunk in enumerate(body or [])
    ]
    if disconnect:
        messages[-1]["more_body"] = True
        messages.append({"type": "http.disconnect"})

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

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
        request=Request(scope, receive),
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


# -- the body, the headers and one delivery, each alone ---------------------------------------


def body_call(chunks: list[bytes], *, declared: bool, disconnect: bool = False) -> Call:
    size = sum(map(len, chunks))
    headers = {"Content-Length": str(size)} if declared else {"Transfer-Encoding": "chunked"}
    c = call(headers, method="POST", body=chunks, disconnect=disconnect)
    c.op, c.body_limit, c.declared = OP, 1000, size if declared else None
    return c


READ = ReadBody(GatewaySettings(buffer_request_bytes=64))


async def test_read_body_none_for_a_get_without_one() -> None:
    c = call()
    c.op = OP
    assert await READ(c) is None


async def test_read_body_buffers_a_small_body_and_hashes_exactly_it() -> None:
    c = body_call([b'{"a":', b"1}"], declared=True)
    assert await READ(c) == b'{"a":1}'
    assert c.request_hash.hexdigest() == hashlib.sha256(b'{"a":1}').hexdigest()


async def test_read_body_spools_a_larger_body_whole_before_it_is_forwarded() -> None:
    chunks = [b"x" * 50, b"y" * 50, b"z" * 50]
    c = body_call(chunks, declared=False)
    body = await READ(c)
    assert isinstance(body, _Spooled)
    try:
        sent = b"".join([chunk async for chunk in body])
    finally:
        body.close()
    assert sent == b"".join(chunks)
    # the digest the assertion binds is known before the first byte goes to the agency
    assert c.request_hash.hexdigest() == hashlib.sha256(sent).hexdigest()


async def test_read_body_refuses_a_chunked_body_over_the_agencys_limit() -> None:
    c = body_call([b"x" * 600, b"x" * 600], declared=False)  # no Content-Length to refuse early
    refusal = await READ(c)
    assert isinstance(refusal, Refusal) and refusal.status == 413 and c.body_too_large


async def test_read_body_a_caller_gone_mid_body_is_a_499() -> None:
    c = body_call([b"x" * 100], declared=False, disconnect=True)
    refusal = await READ(c)
    assert isinstance(refusal, Refusal) and (refusal.status, refusal.outcome) == (
        499,
        "caller-disconnected",
    )


def test_upstream_headers_carry_the_gateways_own_identity_of_the_caller() -> None:
    c = routed_call()
    sent = dict(upstream_headers(c))
    assert (sent["x-mesh-client"], sent["x-mesh-user"]) == ("licensing", "900101300001")
    assert sent["x-request-id"] == "req-1" and sent["traceparent"].startswith("00-")


def test_upstream_headers_never_pass_on_a_callers_claim_to_be_someone_else() -> None:
    # the attacker's version: a caller naming another client, user or assertion itself
    c = call(
        {
            "X-Mesh-Client": "identity",
            "X-Mesh-User": "111111111111",
            "X-Mesh-Assertion": "forged",
            "X-Road-Client": "KZ/GOV/1/identity",
            "Connection": "x-secret",
            "X-Secret": "hop",
        }
    )
    c.op, c.client, c.user = OP, "licensing", "900101300001"
    sent = upstream_headers(c)
    names = [k for k, _ in sent]
    assert names.count("x-mesh-client") == 1 and dict(sent)["x-mesh-client"] == "licensing"
    assert dict(sent)["x-mesh-user"] == "900101300001"
    assert not {"x-mesh-assertion", "x-road-client", "x-secret"} & set(names)


@pytest.mark.parametrize(
    ("exc", "state", "expected", "agencys_failure"),
    [
        (httpx.ReadTimeout("slow"), {}, (504, "upstream-timeout"), True),
        (TimeoutError(), {"awaiting_caller": True}, (408, "request-timeout"), False),
        (httpx.ConnectError("down"), {}, (502, "upstream-unreachable"), True),
        (httpx.ReadError("reset"), {"body_pending": True}, (502, "upstream-refused-body"), False),
        (httpx.ReadError("reset"), {"caller_gone": True}, None, False),
        (TimeoutError(), {"body_too_large": True}, None, False),
    ],
)
def test_attempt_failed_tells_the_agencys_failure_from_the_callers(
    exc: Exception,
    state: dict[str, bool],
    expected: tuple[int, str] | None,
    agencys_failure: bool,
) -> None:
    c = routed_call()
    for name, value in state.items():
        setattr(c, name, value)
    judged = attempt_failed(c, exc)
    if expected is None:
        assert judged is None  # the caller's doing: the pipeline says which
    else:
        assert judged is not None and (judged.status, judged.code) == expected
    # only the agency's own failures count against its breaker and are tried again
    assert isinstance(judged, AgencyFailed) is agencys_failure


class _Answer(httpx.Response):
    closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_attempt_an_answer_to_a_body_that_went_too_large_is_closed_not_forwarded() -> None:
    forward, _ = forwarder(lambda request: httpx.Response(200))
    c = routed_call()
    answer = _Answer(200, content=b"partial")

    async def send() -> httpx.Response:
        c.body_too_large = True  # (an in-process agency answers a truncated body)
        return answer

    outcome = await forward.attempt(c, send)
    assert isinstance(outcome, Refusal) and outcome.status == 413 and answer.closed


async def test_forward_a_fresh_assertion_on_every_retry() -> None:
    seen: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers[ASSERTION_HEADER])
        return httpx.Response(503 if len(seen) == 1 else 200)

    forward, breakers = forwarder(flaky, retries=1)
    answer = await forward(routed_call())
    assert isinstance(answer, httpx.Response) and answer.status_code == 200
    assert len(seen) == 2 and seen[0] != seen[1]  # agencies refuse a replayed nonce
    assert breakers.states()["registry"] == "closed"


# -- audit: the answer is released only once its record is durable -----------------------------


async def test_relay_holds_a_small_answer_whole_until_finish() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    relay = _Relay(send, 200, [])
    await relay.feed(b"ab", limit=10)
    await relay.feed(b"cd", limit=10)
    assert sent == [] and not relay.started  # nothing leaves before the audit record
    await relay.finish()
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"abcd"
    assert relay.hasher.hexdigest() == hashlib.sha256(b"abcd").hexdigest()


async def test_relay_streams_a_large_answer_holding_back_its_last_chunk() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    relay = _Relay(send, 200, [])
    for chunk in (b"aaaa", b"bbbb", b"cccc", b"dddd"):
        await relay.feed(chunk, limit=6)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert relay.started and b"".join(bodies) == b"aaaabbbbcccc"  # "dddd" waits for the record
    await relay.finish()
    assert sent[-1] == {"type": "http.response.body", "body": b"dddd"}
