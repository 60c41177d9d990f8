"""Generic views of a service's published contract, for suites that test every service alike.

Everything here is discovered from a service's OpenAPI document (``app.openapi()``): its
operations, their parameters and request bodies, the string fields a hostile client can fill,
the parameters that carry an IIN or BIN. The suites built on it (contract fuzzing, hostile
input) therefore cover whatever operations a service publishes, today's skeleton or a full
domain, without naming a path.
"""

from __future__ import annotations

import re
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import httpx

from meshkit.ids import (
    EXAMPLE_BIN,
    EXAMPLE_IIN,
    InvalidIdentifier,
    check_digit,
    parse_bin,
    parse_identifier,
    parse_iin,
)
from meshkit.problems import PROBLEM_JSON
from meshkit_testing.apps import FakeGateway, assertion_path, assertion_query
from meshkit_testing.services import SERVICES, build_app

AGENCIES = tuple(s for s in SERVICES if s != "gateway")
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_MEDIA = "application/json"

IdentifierKind = Literal["IIN", "BIN", "IIN_OR_BIN"]


# --- the document ----------------------------------------------------------------------------
@cache
def service_openapi(service: str) -> dict[str, Any]:
    """The OpenAPI document ``service`` publishes (dev mode, as ``make run`` serves it).

    Built from the app's routes; no lifespan is started, nothing is written but the empty
    data directory.
    """
    with tempfile.TemporaryDirectory(prefix=f"openapi-{service}-") as data_dir:
        app = build_app(service, Path(data_dir), kafka_enabled=False)
        return app.openapi()


def resolve(spec: Mapping[str, Any], schema: Any) -> Any:
    """Follow ``$ref`` (local references only) until a concrete schema."""
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema:
        ref = str(schema["$ref"])
        if not ref.startswith("#/"):
            raise ValueError(f"non-local $ref {ref}")
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
        seen += 1
        if seen > 50:
            raise ValueError(f"$ref cycle at {ref}")
    return schema


# --- operations ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    service: str
    method: str  # upper case
    path: str  # the template, e.g. /persons/{iin}
    operation_id: str
    parameters: tuple[Parameter, ...]
    body_media_types: tuple[str, ...]
    body_schema: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    body_required: bool = False

    @property
    def label(self) -> str:
        return f"{self.service}:{self.method} {self.path}"

    @property
    def takes_json(self) -> bool:
        return any(is_json_media(m) for m in self.body_media_types)

    @property
    def spec(self) -> dict[str, Any]:
        return service_openapi(self.service)

    def path_params(self) -> list[Parameter]:
        return [p for p in self.parameters if p.location == "path"]


def is_json_media(media: str) -> bool:
    main = media.split(";")[0].strip().lower()
    return main == JSON_MEDIA or (main.startswith("application/") and main.endswith("+json"))


def operations(service: str) -> list[Operation]:
    """Every operation ``service`` documents, in document order."""
    spec = service_openapi(service)
    out: list[Operation] = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = []
            for raw in [*shared, *op.get("parameters", [])]:
                p = resolve(spec, raw)
                params.append(
                    Parameter(
                        name=p["name"],
                        location=p["in"],
                        required=bool(p.get("required", p["in"] == "path")),
                        schema=dict(resolve(spec, p.get("schema", {}))),
                    )
                )
            body = resolve(spec, op.get("requestBody")) if op.get("requestBody") else None
            media: tuple[str, ...] = ()
            body_schema = None
            if body:
                content = body.get("content", {})
                media = tuple(content)
                first = next((m for m in media if is_json_media(m)), media[0] if media else None)
                if first is not None:
                    body_schema = dict(resolve(spec, content[first].get("schema", {})))
            out.append(
                Operation(
                    service=service,
                    method=method.upper(),
                    path=path,
                    operation_id=op.get("operationId", f"{method}_{path}"),
                    parameters=tuple(params),
                    body_media_types=media,
                    body_schema=body_schema,
                    body_required=bool(body and body.get("required")),
                )
            )
    return out


def all_operations(services: tuple[str, ...] = SERVICES) -> list[Operation]:
    return [op for s in services for op in operations(s)]


def gateway_routes_exchange() -> bool:
    """Whether the gateway publishes the routed exchange ``/x/{agency}/{path}`` yet."""
    return any(p.startswith("/x/") for p in service_openapi("gateway").get("paths", {}))


# --- example values --------------------------------------------------------------------------
_IDENTIFIER_NAME = re.compile(r"(^|_)(iin|bin)($|_)|payer|holder", re.IGNORECASE)


def identifier_kind(name: str, schema: Mapping[str, Any]) -> IdentifierKind | None:
    """IIN, BIN or either, from the schema's description (meshkit.ids types) or the name."""
    desc = str(schema.get("description", ""))
    if "IIN or BIN" in desc:
        return "IIN_OR_BIN"
    if "(IIN)" in desc:
        return "IIN"
    if "(BIN)" in desc:
        return "BIN"
    if not _IDENTIFIER_NAME.search(name):
        return None
    low = name.lower()
    if re.search(r"(^|_)iin($|_)", low):
        return "IIN"
    if re.search(r"(^|_)bin($|_)", low):
        return "BIN"
    return "IIN_OR_BIN"


def _schema_types(schema: Mapping[str, Any]) -> set[str]:
    t = schema.get("type")
    if isinstance(t, list):
        return {str(x) for x in t}
    if isinstance(t, str):
        return {t}
    return set()


def _pick_variant(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            variants = [resolve(spec, v) for v in schema[key]]
            non_null = [v for v in variants if v.get("type") != "null"]
            return non_null[0] if non_null else variants[0]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(resolve(spec, part))
        return merged
    return schema


def example_value(spec: Mapping[str, Any], schema: Any, name: str = "", depth: int = 0) -> Any:
    """A deterministic value that satisfies ``schema`` as far as a small generator can."""
    schema = _pick_variant(spec, resolve(spec, schema or {}))
    kind = identifier_kind(name, schema)
    if kind is not None and (not _schema_types(schema) or "string" in _schema_types(schema)):
        return EXAMPLE_BIN if kind == "BIN" else EXAMPLE_IIN
    for key in ("const", "default"):
        if key in schema and schema[key] is not None:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    types = _schema_types(schema) - {"null"}
    t = next(iter(sorted(types)), None)
    if t is None:
        t = "object" if "properties" in schema else "string"
    if t == "object":
        if depth > 8:
            return {}
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {
            k: example_value(spec, v, k, depth + 1) for k, v in props.items() if k in required
        } | {
            k: example_value(spec, v, k, depth + 1)
            for k, v in props.items()
            if k not in required and depth < 2
        }
    if t == "array":
        n = int(schema.get("minItems", 1))
        return [example_value(spec, schema.get("items", {}), name, depth + 1) for _ in range(n)]
    if t == "integer":
        return int(
            schema.get(
                "minimum",
                schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1,
            )
        )
    if t == "number":
        return float(schema.get("minimum", 1))
    if t == "boolean":
        return True
    return _example_string(schema)


def _example_string(schema: Mapping[str, Any]) -> str:
    fmt = schema.get("format")
    by_format = {
        "date": "2024-01-15",
        "date-time": "2024-01-15T10:00:00Z",
        "email": "aigerim@example.kz",
        "uuid": "4b1f6d2e-8a31-4f7c-9d2b-7e5a1c3f9b10",
        "uri": "https://egov-mesh.kz/",
        "phone": "+77011234567",
    }
    if fmt in by_format:
        return by_format[fmt]
    min_len = int(schema.get("minLength", 1))
    max_len = int(schema.get("maxLength", max(min_len, 8)))
    return ("Ә" + "a" * max(min_len, 1))[: max(min_len, min(max_len, 8))] or "a"


def example_body(op: Operation) -> Any:
    return example_value(op.spec, op.body_schema) if op.body_schema is not None else None


def example_params(op: Operation) -> dict[str, dict[str, Any]]:
    """location → {name: value} for the operation's required (and path) parameters."""
    out: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
    for p in op.parameters:
        if p.location in out and (p.required or p.location == "path"):
            out[p.location][p.name] = example_value(op.spec, p.schema, p.name)
    return out


def format_path(template: str, values: Mapping[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        return urllib.parse.quote(str(values.get(m.group(1), "x")), safe="")

    return re.sub(r"\{([^}]+)\}", sub, template)


# --- walking a body's string fields ------------------------------------------------------------
FieldPath = tuple[str | int, ...]


def string_fields(spec: Mapping[str, Any], schema: Any, depth: int = 0) -> Iterator[FieldPath]:
    """Paths (keys / list indexes) of every string field in an example body of ``schema``."""
    schema = _pick_variant(spec, resolve(spec, schema or {}))
    types = _schema_types(schema)
    if depth > 6:
        return
    if "object" in types or "properties" in schema:
        for key, sub in schema.get("properties", {}).items():
            for rest in string_fields(spec, sub, depth + 1):
                yield (key, *rest)
    elif "array" in types:
        for rest in string_fields(spec, schema.get("items", {}), depth + 1):
            yield (0, *rest)
    elif "string" in types or (not types and "enum" not in schema):
        yield ()


def integer_fields(
    spec: Mapping[str, Any], schema: Any, depth: int = 0
) -> Iterator[tuple[FieldPath, Mapping[str, Any]]]:
    """(path, schema) of every integer (or number) field of a body of ``schema``, also inside
    arrays (index 0) and optional objects."""
    schema = _pick_variant(spec, resolve(spec, schema or {}))
    types = _schema_types(schema)
    if depth > 6:
        return
    if "object" in types or "properties" in schema:
        for key, sub in schema.get("properties", {}).items():
            for rest, leaf in integer_fields(spec, sub, depth + 1):
                yield (key, *rest), leaf
    elif "array" in types:
        for rest, leaf in integer_fields(spec, schema.get("items", {}), depth + 1):
            yield (0, *rest), leaf
    elif types & {"integer", "number"}:
        yield (), schema


def date_fields(
    spec: Mapping[str, Any], schema: Any, depth: int = 0
) -> Iterator[tuple[FieldPath, str]]:
    """(path, format) of every date / date-time field of a body of ``schema``."""
    schema = _pick_variant(spec, resolve(spec, schema or {}))
    types = _schema_types(schema)
    if depth > 6:
        return
    if "object" in types or "properties" in schema:
        for key, sub in schema.get("properties", {}).items():
            for rest, fmt in date_fields(spec, sub, depth + 1):
                yield (key, *rest), fmt
    elif "array" in types:
        for rest, fmt in date_fields(spec, schema.get("items", {}), depth + 1):
            yield (0, *rest), fmt
    elif schema.get("format") in ("date", "date-time"):
        yield (), str(schema["format"])


def body_variants(spec: Mapping[str, Any], schema: Any) -> list[Any]:
    """The alternatives of a body schema (each member of a top-level anyOf/oneOf, e.g. the
    kinds of a discriminated union), or the schema itself."""
    resolved = resolve(spec, schema or {})
    for key in ("anyOf", "oneOf"):
        if key in resolved:
            return [v for v in resolved[key] if resolve(spec, v).get("type") != "null"]
    return [schema]


def bounds_of(schema: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(lowest, highest) value ``schema`` documents, inclusive bounds (None: unbounded)."""
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    return low, high


def identifier_fields(
    spec: Mapping[str, Any], schema: Any
) -> Iterator[tuple[FieldPath, IdentifierKind]]:
    """Body fields that carry an IIN/BIN (by meshkit.ids type or by name)."""
    for path in string_fields(spec, schema):
        if not path:
            continue
        leaf_schema = _schema_at(spec, schema, path)
        name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
        kind = identifier_kind(name, leaf_schema)
        if kind is not None:
            yield path, kind


def _schema_at(spec: Mapping[str, Any], schema: Any, path: FieldPath) -> Mapping[str, Any]:
    node = _pick_variant(spec, resolve(spec, schema or {}))
    for part in path:
        if isinstance(part, int):
            node = _pick_variant(spec, resolve(spec, node.get("items", {})))
        else:
            node = _pick_variant(spec, resolve(spec, node.get("properties", {}).get(part, {})))
    return node


def set_at(body: Any, path: FieldPath, value: Any) -> Any:
    """A copy of ``body`` with ``value`` at ``path`` (containers created as needed)."""
    import copy

    out = copy.deepcopy(body)
    if not path:
        return value
    node = out
    for i, part in enumerate(path[:-1]):
        nxt: Any = [] if isinstance(path[i + 1], int) else {}
        if isinstance(part, int):
            while len(node) <= part:
                node.append(nxt)
            node = node[part]
        else:
            node = node.setdefault(part, nxt)
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value
    return out


def dotted(path: FieldPath) -> str:
    return ".".join(str(p) for p in path) or "body"


# --- IIN / BIN edge cases ------------------------------------------------------------------------
def _with_check_digit(first11: str) -> str:
    """``first11`` plus its correct check digit (or '0' when none can be computed)."""
    digit = check_digit(first11)
    return first11 + (str(digit) if digit is not None else "0")


def identifier_edge_cases(kind: IdentifierKind) -> list[tuple[str, str]]:
    """(case name, value) pairs that a correct IIN/BIN validator refuses, each for its reason."""
    base = EXAMPLE_BIN if kind == "BIN" else EXAMPLE_IIN
    wrong_check = base[:11] + str((int(base[11]) + 1) % 10)
    cases = [
        ("bad-check-digit", wrong_check),
        ("11-digits", base[:11]),
        ("13-digits", base + "0"),
        ("letters", base[:10] + "AB"),
        ("cyrillic-digits-lookalike", base[:11] + "О"),
        ("empty", ""),
        ("spaces", base[:6] + " " + base[6:11]),
    ]
    if kind in ("IIN", "IIN_OR_BIN"):
        cases += [
            ("impossible-date-month-13", _with_check_digit("901315" + base[6:11])),
            ("impossible-date-feb-30", _with_check_digit("900230" + base[6:11])),
            ("century-digit-0", _with_check_digit(base[:6] + "0" + base[7:11])),
            ("century-digit-7", _with_check_digit(base[:6] + "7" + base[7:11])),
            ("century-digit-9", _with_check_digit(base[:6] + "9" + base[7:11])),
        ]
    if kind == "BIN":
        cases += [
            ("bin-month-13", _with_check_digit("1513" + base[4:11])),
            ("bin-entity-type-7", _with_check_digit(base[:4] + "7" + base[5:11])),
            ("bin-kind-digit-5", _with_check_digit(base[:5] + "5" + base[6:11])),
        ]
    # a value that happens to be valid would test nothing
    return [(n, v) for n, v in cases if expected_reason(kind, v) is not None]


def expected_reason(kind: IdentifierKind, value: str) -> str | None:
    """The reason meshkit.ids gives for refusing ``value`` (None: it is valid)."""
    parse = {"IIN": parse_iin, "BIN": parse_bin, "IIN_OR_BIN": parse_identifier}[kind]
    try:
        parse(value)
    except InvalidIdentifier as exc:
        return exc.reason
    except ValueError as exc:
        return str(exc)
    return None


# --- responses ------------------------------------------------------------------------------------
def problem_violations(response: httpx.Response) -> list[str]:
    """Why ``response`` (an error) is not a proper RFC 9457 problem; empty when it is."""
    out: list[str] = []
    ctype = response.headers.get("content-type", "")
    if ctype.split(";")[0].strip() != PROBLEM_JSON:
        out.append(f"content-type is {ctype!r}, not {PROBLEM_JSON}")
        return out
    try:
        body = response.json()
    except ValueError:
        return [*out, "body is not JSON"]
    if not isinstance(body, dict):
        return [*out, "body is not a JSON object"]
    for key, typ in (("type", str), ("title", str), ("status", int)):
        if not isinstance(body.get(key), typ):
            out.append(f"problem has no {key}")
    if isinstance(body.get("status"), int) and body["status"] != response.status_code:
        out.append(f"problem status {body['status']} != HTTP {response.status_code}")
    text = response.text
    for leak in ("Traceback (most recent call last)", "sqlalchemy.", "psycopg", "asyncpg."):
        if leak in text:
            out.append(f"problem leaks internals ({leak})")
    return out


def json_answer_violations(response: httpx.Response) -> list[str]:
    """A non-empty answer must be JSON (or problem+json) and parse."""
    if not response.content or response.status_code in (204, 304):
        return []
    ctype = response.headers.get("content-type", "").split(";")[0].strip()
    if not is_json_media(ctype):
        return [f"answer content-type {ctype!r} is not JSON"]
    try:
        response.json()
    except ValueError:
        return ["answer does not parse as JSON"]
    return []


def describe(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.text[:300]!r}"


def assertion_headers(
    gateway: FakeGateway,
    op_service: str,
    request: httpx.Request,
    *,
    client: str = "gateway-test",
    user: str | None = None,
) -> dict[str, str]:
    """A valid X-Mesh-Assertion for exactly this request (method, decoded path, raw query,
    body, request id)."""
    return gateway.headers(
        op_service,
        request.method,
        assertion_path(request),
        client=client,
        user=user,
        decoded=True,
        query=assertion_query(request),
        body=request.read(),
    )
