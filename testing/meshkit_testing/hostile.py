"""Hostile input, table-driven over the operations a service publishes.

Each ``check_*`` sends one family of hostile requests to one operation of a running service
(:class:`meshkit_testing.live.LiveApp`) and returns its findings — sentences naming what
went wrong, empty when the service held. Agency operations are called with a valid gateway
assertion for exactly the request sent, so the hostile input reaches the handlers and
validation behind ``routed_call`` rather than stopping at authentication.

What every check asks of every answer: never a 5xx; an error is an RFC 9457 problem; a
success is JSON that parses; and a refused write stored nothing (the service's outbox gained
no row — every domain change writes one).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from meshkit.auth.assertion import sign_assertion
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.ids import EXAMPLE_IIN
from meshkit.limits import MAX_JSON_DEPTH
from meshkit_testing.apps import FakeGateway, assertion_path, assertion_query
from meshkit_testing.contract import (
    AGENCIES,
    BODY_METHODS,
    FieldPath,
    IdentifierKind,
    Operation,
    _pick_variant,
    _schema_types,
    body_variants,
    bounds_of,
    date_fields,
    describe,
    dotted,
    example_body,
    example_params,
    example_value,
    expected_reason,
    format_path,
    identifier_edge_cases,
    identifier_fields,
    identifier_kind,
    integer_fields,
    is_json_media,
    json_answer_violations,
    problem_violations,
    resolve,
    set_at,
    string_fields,
)
from meshkit_testing.live import LiveApp

#: strings a hostile client puts in every string field
INJECTIONS: list[tuple[str, str]] = [
    ("sql", "' OR 1=1 --"),
    ("sql-drop", "'; DROP TABLE outbox; --"),
    ("script", "<script>alert(1)</script>"),
    ("traversal", "../../etc/passwd"),
    ("nul", "nul\u0000byte"),
    ("template", "{{7*7}}${7*7}%s%n"),
    ("bidi", "\u202eԀ\ufeffӘ\U0001f600"),
    ("long-4k", "Ә" * 4_000),
    ("long-10k", "Ә" * 10_000),
    ("long-200k", "A" * 200_000),
]

WRONG_CONTENT_TYPES = [
    "text/plain",
    "multipart/form-data; boundary=mesh-boundary",
    "application/xml",
    "application/x-www-form-urlencoded",
]

#: depths of nested JSON every body operation must refuse (a 4xx, never a 5xx): just over
#: meshkit.limits.MAX_JSON_DEPTH, a depth json.loads still parses, and one it cannot
NESTING_DEPTHS = (MAX_JSON_DEPTH + 1, 900, 50_000)
NESTING_DEPTH = 10_000

#: integers every integer input gets (issue 16): beyond int64 both ways, beyond every sane
#: bound, and a literal too long for Python's int() (sent as raw JSON text)
EXTREME_INTEGERS: list[tuple[str, int | str]] = [
    ("2^63", 2**63),
    ("10^20", 10**20),
    ("-2^63", -(2**63)),
    ("2^63-1", 2**63 - 1),
    ("-2^63-1", -(2**63) - 1),
    ("10^5000", "1" + "0" * 5000),
]

#: longest injection string put into a path or query parameter
MAX_URL_PAYLOAD = 8_000

#: larger than any service's default body limit (1 MiB)
OVERSIZED_BYTES = 2 * 1_048_576 + 17


#: the operators' admin APIs (the gateway's, identity's): called with ``Caller.admin_token``
ADMIN_PATHS = ("/api/v1/admin", "/admin/")


@dataclass
class Caller:
    """Sends requests to one service as the gateway would route them (agencies) or directly."""

    service: str
    live: LiveApp
    gateway: FakeGateway | None
    client: str = "registry"
    user: str | None = EXAMPLE_IIN
    sent: list[str] = field(default_factory=list)
    #: the gateway's operators' admin token: hostile input to the admin API is sent by an
    #: authenticated operator, so it reaches validation (an anonymous one is a 401, rightly)
    admin_token: str | None = None
    #: a citizen's bearer token for the gateway's own endpoints (``/api/v1/me/*`` …), so
    #: hostile input reaches their validation (a fresh token per request)
    bearer: Callable[[], str] | None = None
    #: bearer tokens for paths that take another kind of caller (path prefix → token), e.g. a
    #: public service centre operator's for ``/api/v1/centre``; they win over ``bearer``
    bearers: dict[str, Callable[[], str]] = field(default_factory=dict)

    @property
    def signs(self) -> bool:
        return self.gateway is not None and self.service in AGENCIES

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        content: bytes | AsyncIterator[bytes] | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> httpx.Response:
        hdrs = dict(headers or {})
        if content_type is not None:
            hdrs["content-type"] = content_type
        special = next((t for prefix, t in self.bearers.items() if path.startswith(prefix)), None)
        if self.admin_token and path.startswith(ADMIN_PATHS):
            hdrs.setdefault("authorization", f"Bearer {self.admin_token}")
        elif special is not None:
            hdrs.setdefault("authorization", f"Bearer {special()}")
        elif self.bearer is not None and path.startswith("/api/"):
            hdrs.setdefault("authorization", f"Bearer {self.bearer()}")
        request = self.live.build(method, path, params=params, content=content, headers=hdrs)
        if sign and self.signs:
            assert self.gateway is not None
            request.headers.update(
                self.gateway.headers(
                    self.service,
                    request.method,
                    assertion_path(request),
                    client=self.client,
                    user=self.user,
                    decoded=True,
                    query=assertion_query(request),
                    # a streamed body is signed unread: its calls must be refused anyway
                    body=content if isinstance(content, bytes) else b"",
                )
            )
        self.sent.append(f"{method} {path}")
        return self.live.send(request)


Findings = list[str]


def _answer(label: str, response: httpx.Response, *, allowed: set[int] | None = None) -> Findings:
    """What is wrong with ``response`` to a hostile request."""
    out: Findings = []
    if response.status_code == 503 and _upstream_unavailable(response):
        # the agency runs alone here: an input that passed validation reached its call to
        # another agency, which honestly answers "unavailable" — not a fault of this input
        return [f"{label}: {v}" for v in problem_violations(response)]
    if response.status_code >= 500:
        return [f"{label}: server error {describe(response)}"]
    if allowed is not None and response.status_code not in allowed:
        out.append(f"{label}: expected HTTP {sorted(allowed)}, got {describe(response)}")
    if response.status_code >= 400:
        out += [f"{label}: {v}" for v in problem_violations(response)]
    else:
        out += [f"{label}: {v}" for v in json_answer_violations(response)]
    return out


def _upstream_unavailable(response: httpx.Response) -> bool:
    try:
        return str(response.json().get("type", "")).endswith("/unavailable")
    except ValueError:
        return False


class StoredNothing:
    """``with StoredNothing(live, op) as f: …`` adds a finding if a refused write stored a row."""

    def __init__(self, live: LiveApp, op: Operation, findings: Findings) -> None:
        self.live = live
        self.op = op
        self.findings = findings
        self.before = 0

    def __enter__(self) -> StoredNothing:
        self.before = self.live.outbox_rows()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self.live.outbox_rows()
        if after != self.before:
            self.findings.append(
                f"{self.op.label}: a refused request stored {after - self.before} outbox row(s)"
            )


def _path(op: Operation, overrides: dict[str, Any] | None = None) -> str:
    values = example_params(op)["path"] | (overrides or {})
    return format_path(op.path, values)


def _query(op: Operation, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    return example_params(op)["query"] | (overrides or {})


def _raw_query(path: str, params: dict[str, Any]) -> str:
    """The query string httpx sends for ``params`` (what an assertion's ``htq`` binds)."""
    return httpx.URL("http://svc" + path, params=params).query.decode("latin-1")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _body_bytes(op: Operation) -> bytes:
    return _json(example_body(op)) if op.body_schema is not None else b"{}"


# --- the checks --------------------------------------------------------------------------------
def check_oversized_body(caller: Caller, op: Operation) -> Findings:
    """A body over the limit → 413 (or 422) problem, nothing stored; declared or streamed."""
    findings: Findings = []
    body = example_body(op)
    pad = "x" * OVERSIZED_BYTES
    # valid content plus one field nobody asked for: only the size is wrong
    big = _json({**body, "padding": pad}) if isinstance(body, dict) else _json(pad)
    label = f"{op.label} oversized body"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit must count
        for i in range(0, len(big), 65_536):
            yield big[i : i + 65_536]

    with StoredNothing(caller.live, op, findings):
        r = caller.request(
            op.method, _path(op), params=_query(op), content=big, content_type="application/json"
        )
        findings += _answer(label + " (Content-Length)", r, allowed={413, 422})
        r = caller.request(
            op.method,
            _path(op),
            params=_query(op),
            content=chunks(),
            content_type="application/json",
        )
        findings += _answer(label + " (chunked)", r, allowed={413, 422})
    return findings


def check_deep_nesting(caller: Caller, op: Operation) -> Findings:
    """Nesting just over the limit, deep and very deep: a 4xx problem, nothing stored."""
    findings: Findings = []
    bodies: dict[str, bytes] = {}
    for depth in (*NESTING_DEPTHS, NESTING_DEPTH):
        bodies[f"{depth}-deep objects"] = b'{"a":' * depth + b"1" + b"}" * depth
        bodies[f"{depth}-deep arrays"] = b"[" * depth + b"]" * depth
        if isinstance(example_body(op), dict):
            # the nesting inside an expected field
            for path in list(string_fields(op.spec, op.body_schema))[:1]:
                doc = _json(set_at(example_body(op), path, "@@NEST@@"))
                bodies[f"{depth}-deep in-field"] = doc.replace(
                    b'"@@NEST@@"', bodies[f"{depth}-deep arrays"]
                )
    with StoredNothing(caller.live, op, findings):
        for name, content in bodies.items():
            r = caller.request(
                op.method,
                _path(op),
                params=_query(op),
                content=content,
                content_type="application/json",
            )
            findings += _answer(f"{op.label} {name}", r, allowed=set(range(400, 500)))
    return findings


def check_wrong_content_type(caller: Caller, op: Operation) -> Findings:
    findings: Findings = []
    declared = [m.split(";")[0].strip().lower() for m in op.body_media_types]
    wrong = [ct for ct in WRONG_CONTENT_TYPES if ct.split(";")[0] not in declared]
    if not op.takes_json:
        wrong = ["application/json", "text/plain"]
        wrong = [ct for ct in wrong if ct not in declared]
    with StoredNothing(caller.live, op, findings):
        for ct in wrong:
            r = caller.request(
                op.method, _path(op), params=_query(op), content=_body_bytes(op), content_type=ct
            )
            findings += _answer(f"{op.label} sent as {ct}", r, allowed={415, 422})
    return findings


def check_invalid_utf8(caller: Caller, op: Operation) -> Findings:
    findings: Findings = []
    bodies = [b'{"x": "\xff\xfe\xfd"}', b"\xc3\x28\xa0\xa1"]
    body = example_body(op)
    for path in list(string_fields(op.spec, op.body_schema))[:3]:
        doc = _json(set_at(body, path, "@@BAD@@"))
        bodies.append(doc.replace(b"@@BAD@@", b"ok\xed\xa0\x80\xff"))
    with StoredNothing(caller.live, op, findings):
        for content in bodies:
            r = caller.request(
                op.method,
                _path(op),
                params=_query(op),
                content=content,
                content_type="application/json; charset=utf-8",
            )
            findings += _answer(
                f"{op.label} invalid UTF-8 {content[:24]!r}", r, allowed=set(range(400, 500))
            )
    return findings


def injection_targets(op: Operation) -> list[tuple[str, str | FieldPath]]:
    """('body', field path) for every string body field, (location, name) for string params."""
    out: list[tuple[str, str | FieldPath]] = []
    if op.body_schema is not None and op.takes_json:
        out += [("body", p) for p in string_fields(op.spec, op.body_schema)]
    for p in op.parameters:
        if p.location in ("path", "query") and p.schema.get("type", "string") == "string":
            out.append((p.location, p.name))
    return out


def check_injection(caller: Caller, op: Operation) -> Findings:
    """Injection strings in every string field: 4xx or a normal answer, never a 5xx; a JSON
    answer always parses."""
    findings: Findings = []
    for location, target in injection_targets(op):
        for name, payload in INJECTIONS:
            if location != "body" and len(payload) > MAX_URL_PAYLOAD:
                continue  # a URL that long is refused by clients and proxies long before
            label = f"{op.label} {name} in {location} {dotted(target) if isinstance(target, tuple) else target}"
            if location == "body":
                assert isinstance(target, tuple)
                content = _json(set_at(example_body(op), target, payload))
                r = caller.request(
                    op.method,
                    _path(op),
                    params=_query(op),
                    content=content,
                    content_type="application/json",
                )
            elif location == "path":
                r = caller.request(
                    op.method,
                    _path(op, {str(target): payload}),
                    params=_query(op),
                    content=_body_bytes(op) if op.body_media_types else None,
                    content_type="application/json" if op.takes_json else None,
                )
            else:
                r = caller.request(
                    op.method,
                    _path(op),
                    params=_query(op, {str(target): payload}),
                    content=_body_bytes(op) if op.body_media_types else None,
                    content_type="application/json" if op.takes_json else None,
                )
            findings += _answer(label, r)
    return findings


T = TypeVar("T")


def _input_targets(
    op: Operation,
    of_parameter: Callable[[Any], T | None],
    body_fields: Callable[[Any], Iterable[tuple[FieldPath, T]]],
) -> list[tuple[str, str | FieldPath, T, Any]]:
    """(location, name or body path, what the probe needs of it, example body) of every
    path/query parameter ``of_parameter`` picks and every body field ``body_fields`` yields;
    a body field of one alternative of a union comes with an example of that alternative."""
    out: list[tuple[str, str | FieldPath, T, Any]] = []
    for p in op.parameters:
        picked = of_parameter(p.schema)
        if picked is not None and p.location in ("path", "query"):
            out.append((p.location, p.name, picked, example_body(op)))
    if op.body_schema is not None and op.takes_json:
        seen: set[FieldPath] = set()
        for variant in body_variants(op.spec, op.body_schema):
            example = example_value(op.spec, variant)
            for path, leaf in body_fields(variant):
                if path not in seen:
                    seen.add(path)
                    out.append(("body", path, leaf, example))
    return out


def integer_targets(
    op: Operation,
) -> list[tuple[str, str | FieldPath, Mapping[str, Any], Any]]:
    """(location, name or body path, schema, example body) of every integer/number input; a
    body field of one alternative of a union comes with an example of that alternative."""
    return _input_targets(
        op, lambda schema: _pick_numeric(op, schema), lambda v: integer_fields(op.spec, v)
    )


def _pick_numeric(op: Operation, schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
    picked = _pick_variant(op.spec, resolve(op.spec, schema))
    return picked if _schema_types(picked) & {"integer", "number"} else None


def unbounded_integers(op: Operation) -> list[str]:
    """The integer inputs of ``op`` whose schema documents no minimum or no maximum."""
    out: list[str] = []
    for location, target, schema, _ in integer_targets(op):
        if "integer" not in str(schema.get("type")):
            continue
        low, high = bounds_of(schema)
        if low is None or high is None:
            where = dotted(target) if isinstance(target, tuple) else target
            out.append(f"{op.label} {location} {where}: minimum {low}, maximum {high}")
    return out


def check_integer_extremes(caller: Caller, op: Operation) -> Findings:
    """Every integer input gets 2^63, 10^20, -2^63, … : a problem (a 4xx) — never a 5xx, and
    never a success for a value outside the bounds the operation documents."""
    findings: Findings = []
    with StoredNothing(caller.live, op, findings):
        for location, target, schema, example in integer_targets(op):
            low, high = bounds_of(schema)
            where = dotted(target) if isinstance(target, tuple) else target
            for name, value in EXTREME_INTEGERS:
                label = f"{op.label} {name} in {location} {where}"
                body = _json(example) if op.body_schema is not None else None
                path, query = _path(op), _query(op)
                if location == "body":
                    assert isinstance(target, tuple)
                    doc = _json(set_at(example, target, "@@INT@@"))
                    body = doc.replace(b'"@@INT@@"', str(value).encode())
                elif location == "path":
                    path = _path(op, {str(target): value})
                else:
                    query = _query(op, {str(target): str(value)})
                r = caller.request(
                    op.method,
                    path,
                    params=query,
                    content=body,
                    content_type="application/json" if op.takes_json else None,
                )
                number = value if isinstance(value, int) else 10 ** (len(value) - 1)
                outside = (low is not None and number < low) or (high is not None and number > high)
                findings += _answer(label, r, allowed=set(range(400, 500)) if outside else None)
    return findings


#: dates and timestamps at the ends of the calendar: arithmetic on them overflows
EXTREME_DATES = {
    "date": ["0001-01-01", "9999-12-31"],
    "date-time": ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00"],
}


def date_targets(op: Operation) -> list[tuple[str, str | FieldPath, str, Any]]:
    """(location, name or body path, format, example body) of every date/date-time input."""

    def date_format(schema: Any) -> str | None:
        picked = _pick_variant(op.spec, resolve(op.spec, schema))
        fmt = picked.get("format")
        return str(fmt) if fmt in EXTREME_DATES else None

    return _input_targets(op, date_format, lambda v: date_fields(op.spec, v))


def check_date_extremes(caller: Caller, op: Operation) -> Findings:
    """Year 1 and year 9999 in every date/date-time input: never a 5xx."""
    findings: Findings = []
    for location, target, fmt, example in date_targets(op):
        where = dotted(target) if isinstance(target, tuple) else target
        for value in EXTREME_DATES[fmt]:
            body = _json(example) if op.body_schema is not None else None
            path, query = _path(op), _query(op)
            if location == "body":
                assert isinstance(target, tuple)
                body = _json(set_at(example, target, value))
            elif location == "path":
                path = _path(op, {str(target): value})
            else:
                query = _query(op, {str(target): value})
            r = caller.request(
                op.method,
                path,
                params=query,
                content=body,
                content_type="application/json" if op.takes_json else None,
            )
            findings += _answer(f"{op.label} {value} in {location} {where}", r)
    return findings


def identifier_targets(op: Operation) -> list[tuple[str, str | FieldPath, IdentifierKind]]:
    """(location, name or body path, kind) of every IIN/BIN-carrying input."""
    out: list[tuple[str, str | FieldPath, IdentifierKind]] = []
    for p in op.parameters:
        kind = identifier_kind(p.name, p.schema)
        if kind is not None and p.location in ("path", "query"):
            out.append((p.location, p.name, kind))
    if op.body_schema is not None and op.takes_json:
        out += [("body", path, kind) for path, kind in identifier_fields(op.spec, op.body_schema)]
    return out


def check_identifiers(caller: Caller, op: Operation) -> Findings:
    """Every IIN/BIN edge case → 422 problem whose field error gives meshkit.ids' reason."""
    findings: Findings = []
    with StoredNothing(caller.live, op, findings):
        for location, target, kind in identifier_targets(op):
            where = dotted(target) if isinstance(target, tuple) else target
            for case, value in identifier_edge_cases(kind):
                label = f"{op.label} {kind} {case} {value!r} in {location} {where}"
                body = _body_bytes(op) if op.body_media_types else None
                path, query = _path(op), _query(op)
                if location == "body":
                    assert isinstance(target, tuple)
                    body = _json(set_at(example_body(op), target, value))
                elif location == "path":
                    if value == "":
                        continue  # an empty segment is another route, not a bad IIN
                    path = _path(op, {str(target): value})
                else:
                    query = _query(op, {str(target): value})
                r = caller.request(
                    op.method,
                    path,
                    params=query,
                    content=body,
                    content_type="application/json" if op.takes_json else None,
                )
                bad = _answer(label, r, allowed={422})
                reason = expected_reason(kind, value)
                if not bad and reason and reason not in r.text:
                    bad.append(
                        f"{label}: the problem does not give the reason {reason!r}: {r.text[:300]}"
                    )
                elif not bad and where.split(".")[-1] not in r.text:
                    bad.append(f"{label}: the problem does not name the field {where}")
                findings += bad
    return findings


# --- the gateway assertion ---------------------------------------------------------------------
def is_routed(caller: Caller, op: Operation) -> bool:
    """An operation is routed when, called without an assertion, it asks for one (401)."""
    r = caller.request(
        op.method,
        _path(op),
        params=_query(op),
        content=_body_bytes(op) if op.body_media_types else None,
        content_type="application/json" if op.takes_json else None,
        sign=False,
    )
    return r.status_code == 401 and "X-Mesh-Assertion" in r.text


AssertionAttack = Callable[[FakeGateway, str, str, str, str], dict[str, str]]


def _token(key: SigningKey, agency: str, method: str, path: str, rid: str, **kw: Any) -> str:
    claims: dict[str, Any] = {
        "agency": agency,
        "method": method,
        "path": path,
        "client": "registry",
        "user": EXAMPLE_IIN,
        "request_id": rid,
    } | kw
    return sign_assertion(key, **claims)


def _alg_none(agency: str, method: str, path: str, rid: str) -> str:
    import base64

    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "iss": "egov-gateway",
        "aud": agency,
        "sub": "registry",
        "iat": now,
        "exp": now + 60,
        "jti": rid,
        "htm": method,
        "htu": path,
    }
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def _tampered(gw: FakeGateway, agency: str, method: str, path: str, rid: str) -> str:
    header, payload, sig = _token(gw.ring.current, agency, method, path, rid).split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "citizen"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged_payload}.{sig}"


#: name → (gateway, agency, method, path, request id) → headers to send
ASSERTION_ATTACKS: dict[str, AssertionAttack] = {
    "missing": lambda gw, a, m, p, rid: {"X-Request-Id": rid},
    "garbage": lambda gw, a, m, p, rid: {"X-Mesh-Assertion": "not.a.jwt", "X-Request-Id": rid},
    "forged-key": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _token(KeyRing(SigningKey.generate()).current, a, m, p, rid),
        "X-Request-Id": rid,
    },
    "tampered-claims": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _tampered(gw, a, m, p, rid),
        "X-Request-Id": rid,
    },
    "alg-none": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _alg_none(a, m, p, rid),
        "X-Request-Id": rid,
    },
    "expired": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _token(gw.ring.current, a, m, p, rid, now=time.time() - 3600),
        "X-Request-Id": rid,
    },
    "issued-in-the-future": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _token(
            gw.ring.current, a, m, p, rid, now=time.time() + 3600, ttl_s=7200
        ),
        "X-Request-Id": rid,
    },
    "other-agency": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _token(gw.ring.current, "somebody-else", m, p, rid),
        "X-Request-Id": rid,
    },
    "other-path": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _token(gw.ring.current, a, m, p + "/elsewhere", rid),
        "X-Request-Id": rid,
    },
    "other-method": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _token(
            gw.ring.current, a, "DELETE" if m != "DELETE" else "GET", p, rid
        ),
        "X-Request-Id": rid,
    },
    "replayed-with-another-request-id": lambda gw, a, m, p, rid: {
        "X-Mesh-Assertion": _token(gw.ring.current, a, m, p, rid + "-first"),
        "X-Request-Id": rid,
    },
}


def check_assertion_attack(caller: Caller, op: Operation, attack: str) -> Findings:
    assert caller.gateway is not None
    path = _path(op)
    decoded = httpx.URL("http://svc" + path).path
    rid = f"req-attack-{time.time_ns()}"
    headers = ASSERTION_ATTACKS[attack](caller.gateway, caller.service, op.method, decoded, rid)
    r = caller.request(
        op.method,
        path,
        params=_query(op),
        content=_body_bytes(op) if op.body_media_types else None,
        content_type="application/json" if op.takes_json else None,
        headers=headers,
        sign=False,
    )
    return _answer(f"{op.label} assertion {attack}", r, allowed={401})


def check_identical_replay(caller: Caller, op: Operation) -> Findings:
    """The very same assertion and request id, sent twice: the second must be refused."""
    assert caller.gateway is not None
    path = _path(op)
    decoded = httpx.URL("http://svc" + path).path
    rid = f"req-replay-{time.time_ns()}"
    content = _body_bytes(op) if op.body_media_types else None
    headers = caller.gateway.headers(
        caller.service,
        op.method,
        decoded,
        client="registry",
        user=EXAMPLE_IIN,
        request_id=rid,
        query=_raw_query(path, _query(op)),
        body=content or b"",
    )
    kwargs: dict[str, Any] = {
        "params": _query(op),
        "content": content,
        "content_type": "application/json" if op.takes_json else None,
        "headers": headers,
        "sign": False,
    }
    first = caller.request(op.method, path, **kwargs)
    if first.status_code == 401:
        return [f"{op.label}: the first, valid call was refused: {describe(first)}"]
    second = caller.request(op.method, path, **kwargs)
    return _answer(f"{op.label} identical replay", second, allowed={401})


# --- path traversal ----------------------------------------------------------------------------
def traversal_paths(path: str) -> list[bytes]:
    """Raw request paths that smuggle ``..`` into ``path`` (sent byte for byte)."""
    segments = [s for s in path.split("/") if s]
    first = segments[0] if segments else "x"
    rest = "/".join(segments[1:]) or "x"
    return [
        f"/{first}/%2e%2e/{first}/{rest}".encode(),
        f"/{first}/{rest}/../../../../../etc/passwd".encode(),
        f"/{first}/%2e%2e%2f{first}/{rest}".encode(),
        f"/{first}/..%2f..%2f{rest}".encode(),
        f"/{first}/%252e%252e/{rest}".encode(),
        f"//{first}/./{rest}".encode(),
        b"/%2e%2e/%2e%2e/etc/passwd",
        b"/../../etc/passwd",
    ]


def check_traversal(caller: Caller, op: Operation, *, sign: bool) -> Findings:
    """Traversal variants of a path reach nothing: 4xx (a problem), never 2xx or 5xx."""
    findings: Findings = []
    for raw in traversal_paths(_path(op)):
        headers: dict[str, str] = {}
        if sign and caller.signs:
            assert caller.gateway is not None
            decoded = httpx.URL("http://svc" + raw.decode()).path
            headers = caller.gateway.headers(caller.service, op.method, decoded, client="registry")
        r = caller.live.send_raw_path(op.method, raw, headers=headers)
        findings += _answer(f"{op.label} traversal {raw!r}", r, allowed=set(range(400, 500)))
    return findings


def routed_exchange_traversals(agency: str) -> list[bytes]:
    """Raw paths that try to climb out of ``/x/<agency>/`` at the gateway."""
    return [
        f"/x/{agency}/../../admin".encode(),
        f"/x/{agency}/%2e%2e/%2e%2e/admin".encode(),
        f"/x/{agency}/..%2f..%2fapi/v1/audit/verify".encode(),
        f"/x/{agency}/%2e%2e/other/health/live".encode(),
        f"/x/{agency}%2f..%2fidentity/persons".encode(),
    ]


def body_method(op: Operation) -> bool:
    return op.method in BODY_METHODS and bool(op.body_media_types)


def json_body_method(op: Operation) -> bool:
    return body_method(op) and any(is_json_media(m) for m in op.body_media_types)
