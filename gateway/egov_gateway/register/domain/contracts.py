"""The contract check: does a service's form, mapped onto the agency's operation, fit the
request the agency published?

A simple service's plan is one step (an explicit ``steps[0]`` mapping or the default
``mapping.default_mapping``); its ``input`` maps ``path``/``query``/``body`` fields from ``$.payload.<x>``,
``$.applicant``, literals or earlier steps. Against the member's stored OpenAPI document
(``requestBody`` JSON schema with ``$ref``s into ``components/schemas``, path and query
parameters) the check requires:

* every field the agency REQUIRES is produced by the mapping (from a field the form requires,
  ``$.applicant``, a literal or an earlier step);
* no field the agency does not take is sent (a body field its schema does not declare —
  refused with ``additionalProperties: false``, silently dropped otherwise —, a query
  parameter the operation does not declare, a body for an operation without one);
* every produced value fits the agency's field: a literal validates against it; a form field
  has a compatible type, its enum/const values are all accepted (enum ⊆ agency enum), it is no
  longer/shorter than allowed (maxLength/minLength, maxItems, minimum/maximum), a pattern or
  enum the agency imposes is imposed by the form too, and objects/arrays are checked field by
  field the same way.

Errors are ``{"input_schema.<form field>" | "steps.<step>.<part>.<agency field>": message}``.
Values from earlier steps or the applicant's record (``$.steps…``, ``$.person…``) are the
agencies' own answers: not checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from egov_gateway.register.domain.mapping import default_mapping, resolve
from meshkit import ids

_EXPR = re.compile(r"^\$\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$")
_PARAM = re.compile(r"\{[^}]+\}")

IIN_PATTERN = "^[0-9]{12}$"
APPLICANT_SCHEMA: dict[str, Any] = {"type": "string", "pattern": IIN_PATTERN, "format": "iin"}


def format_checker() -> FormatChecker:
    """JSON-schema formats of the register: the standard ones plus ``iin``/``bin`` (12 digits
    with a valid check digit, meshkit.ids) — not expressible as a pattern."""
    checker = FormatChecker()

    @checker.checks("iin")
    def _iin(value: object) -> bool:
        return not isinstance(value, str) or ids.is_valid_iin(value)

    @checker.checks("bin")
    def _bin(value: object) -> bool:
        return not isinstance(value, str) or ids.is_valid_bin(value)

    @checker.checks("iin-or-bin")
    def _iin_or_bin(value: object) -> bool:
        return not isinstance(value, str) or ids.is_valid_iin(value) or ids.is_valid_bin(value)

    return checker


FORMATS = format_checker()


# -- the agency's request ----------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    schema: dict[str, Any]
    required: bool


@dataclass(frozen=True)
class RequestContract:
    """What an operation takes, schemas with ``$ref``s resolved (cycles cut to ``{}``)."""

    path: dict[str, Param] = field(default_factory=dict)
    query: dict[str, Param] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # the JSON schema of the body, None: takes none
    body_required: bool = False


def _shape(template: str) -> str:
    return _PARAM.sub("{}", template.rstrip("/") or "/")


def _deref(schema: Any, doc: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(schema, list):
        return [_deref(s, doc, seen) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if ref in seen:
            return {}
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        resolved = _deref(target or {}, doc, (*seen, ref))
        return {**resolved, **_deref(rest, doc, seen)} if rest else resolved
    return {k: _deref(v, doc, seen) for k, v in schema.items()}


def request_contract(
    document: Mapping[str, Any] | None, method: str, template: str
) -> RequestContract | None:
    """The operation's request in the document (matched by method and path shape, so
    ``/invoices/{invoice_id}`` is ``/invoices/{id}``); None when the document lacks it."""
    paths = (document or {}).get("paths")
    if not isinstance(paths, Mapping):
        return None
    want = _shape(template)
    names = _PARAM.findall(template)
    for raw, item in paths.items():
        if not isinstance(item, Mapping) or _shape(str(raw)) != want:
            continue
        op = item.get(method.lower())
        if not isinstance(op, Mapping):
            continue
        published = _PARAM.findall(str(raw))
        rename = {p[1:-1]: n[1:-1] for p, n in zip(published, names, strict=False)}
        path: dict[str, Param] = {}
        query: dict[str, Param] = {}
        for p in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            p = _deref(p, document or {})
            if not isinstance(p, Mapping):
                continue
            schema = _deref(p.get("schema") or {}, document or {})
            if p.get("in") == "path":
                path[rename.get(str(p.get("name")), str(p.get("name")))] = Param(schema, True)
            elif p.get("in") == "query":
                query[str(p.get("name"))] = Param(schema, bool(p.get("required")))
        body = None
        body_required = False
        rb = _deref(op.get("requestBody"), document or {})
        if isinstance(rb, Mapping):
            content = rb.get("content") or {}
            media = content.get("application/json") or next(iter(content.values()), None)
            if isinstance(media, Mapping):
                body = _deref(media.get("schema") or {}, document or {})
                body_required = bool(rb.get("required"))
        return RequestContract(path, query, body, body_required)
    return None


# -- sources of mapped values ----------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """What the mapping puts into one field of the request."""

    schema: dict[str, Any] | None  # None: not known here (an agency's answer): not checked
    always: bool  # there whenever the form is valid
    form_field: str | None = None  # the form's field it comes from (error key)
    literal: bool = False
    value: Any = None


def _form_field(schema: Mapping[str, Any], parts: list[str]) -> tuple[dict[str, Any] | None, bool]:
    """The form's schema at ``parts`` and whether it is always there (required all the way)."""
    current: Any = schema
    always = True
    for part in parts:
        if not isinstance(current, Mapping):
            return None, False
        if part.isdigit() and isinstance(current.get("items"), Mapping):
            current = current["items"]
            always = always and int(part) < int(current.get("minItems", 0) or 0)
            continue
        props = current.get("properties") or {}
        if part not in props:
            return None, False
        always = always and part in (current.get("required") or [])
        current = props[part]
    return (dict(current) if isinstance(current, Mapping) else None), always


def source_of(expr: Any, form: Mapping[str, Any]) -> Source:
    if isinstance(expr, Mapping):
        return Source(None, True, literal=True, value=expr)
    if not isinstance(expr, str) or not _EXPR.match(expr):
        return Source(None, True, literal=True, value=expr)
    parts = expr[2:].split(".")
    head = parts[0]
    if head == "applicant":
        return Source(APPLICANT_SCHEMA, True)
    if head == "payload_or_applicant":
        schema, _ = _form_field(form, parts[1:])
        return Source(schema or APPLICANT_SCHEMA, True, form_field=".".join(parts[1:]))
    if head == "application_id":
        return Source({"type": "string"}, True)
    if head == "today_plus_days":
        return Source({"type": "string", "format": "date"}, True)
    if head == "payload":
        schema, always = _form_field(form, parts[1:])
        name = ".".join(parts[1:])
        if schema is None:
            return Source({"not": {}}, False, form_field=name)  # the form has no such field
        return Source(schema, always, form_field=name)
    return Source(None, True)  # $.steps…, $.person…: the agencies' own answers


# -- compatibility -------------------------------------------------------------------------------
def _types(schema: Mapping[str, Any]) -> set[str] | None:
    t = schema.get("type")
    if t is None:
        if "const" in schema:
            return {_json_type(schema["const"])}
        if "enum" in schema:
            return {_json_type(v) for v in schema["enum"]}
        return None
    return set(t) if isinstance(t, list) else {str(t)}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _values(schema: Mapping[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    return None


def _show(values: list[Any], limit: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (", …" if len(values) > limit else "")


def _branches(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return [b for b in schema[key] if isinstance(b, Mapping)]
    return [schema]


def _validates(value: Any, schema: Mapping[str, Any]) -> str | None:
    err = next(
        iter(Draft202012Validator(dict(schema), format_checker=FORMATS).iter_errors(value)), None
    )
    return None if err is None else err.message[:200]


def mismatch(
    src: Mapping[str, Any], dst: Mapping[str, Any], errors: dict[str, str], key: str
) -> None:
    """Record where a value valid for ``src`` (the form's schema) may be refused by ``dst``."""
    branches = [b for b in _branches(dst) if b.get("type") != "null"] or [dst]
    if len(branches) > 1:
        trials: list[dict[str, str]] = []
        for b in branches:
            found: dict[str, str] = {}
            mismatch(src, b, found, key)
            if not found:
                return
            trials.append(found)
        best: dict[str, str] = min(trials, key=len)
        errors.update(best)
        return
    dst = branches[0]
    if "allOf" in dst and isinstance(dst["allOf"], list):
        for part in dst["allOf"]:
            if isinstance(part, Mapping):
                mismatch(src, part, errors, key)
        return
    src_values = _values(src)
    dst_values = _values(dst)
    if src_values is not None:
        for v in src_values:
            problem = _validates(v, dst)
            if problem is not None:
                if dst_values is not None:
                    errors[key] = (
                        f"the agency expects one of {_show(dst_values)}; the form sends {v!r}"
                    )
                else:
                    errors[key] = f"the agency refuses {v!r} ({problem}); the form sends it"
                return
        return
    if dst_values is not None:
        errors[key] = f"the agency expects one of {_show(dst_values)}; the form accepts any value"
        return
    st, dt = _types(src), _types(dst)
    if dt is not None:
        if "number" in dt:
            dt = dt | {"integer"}
        if st is None or not (st - {"null"}) <= dt:
            sent = "any type" if st is None else "/".join(sorted(st))
            errors[key] = f"the agency expects {'/'.join(sorted(dt))}; the form sends {sent}"
            return
    kinds = st or set()
    if "string" in kinds and not src.get("pattern"):  # (the register's patterns are anchored)
        if "maxLength" in dst and src.get("maxLength", 10**9) > dst["maxLength"]:
            errors[key] = (
                f"the agency allows at most {dst['maxLength']} characters; the form allows "
                f"{src.get('maxLength', 'any length')}"
            )
            return
        if dst.get("minLength", 0) > src.get("minLength", 0):
            errors[key] = (
                f"the agency needs at least {dst['minLength']} characters; the form allows "
                f"{src.get('minLength', 0)}"
            )
            return
    if "string" in kinds:
        if "pattern" in dst and not src.get("pattern") and "format" not in src:
            errors[key] = (
                f"the agency requires the pattern {dst['pattern']}; the form takes any text"
            )
            return
        if dst.get("format") in ("date", "date-time") and src.get("format") != dst["format"]:
            errors[key] = f"the agency expects a {dst['format']}; the form takes any text"
            return
    if kinds & {"integer", "number"}:
        if "maximum" in dst and src.get("maximum", float("inf")) > dst["maximum"]:
            errors[key] = f"the agency allows at most {dst['maximum']}"
            return
        if "minimum" in dst and src.get("minimum", float("-inf")) < dst["minimum"]:
            errors[key] = f"the agency needs at least {dst['minimum']}"
            return
        for excl, cmp in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if excl in dst and cmp not in src and excl not in src:
                errors[key] = f"the agency requires {excl} {dst[excl]}; the form does not"
                return
    if "array" in kinds:
        if "maxItems" in dst and src.get("maxItems", 10**9) > dst["maxItems"]:
            errors[key] = f"the agency allows at most {dst['maxItems']} items"
            return
        if dst.get("minItems", 0) > src.get("minItems", 0):
            errors[key] = f"the agency needs at least {dst['minItems']} items"
            return
        si, di = src.get("items"), dst.get("items")
        if isinstance(si, Mapping) and isinstance(di, Mapping):
            mismatch(si, di, errors, f"{key}[]")
        return
    if "object" in kinds and isinstance(dst.get("properties"), Mapping):
        sprops = src.get("properties") or {}
        sreq = set(src.get("required") or [])
        fields = {
            name: Source(dict(s), name in sreq, form_field=f"{key}.{name}")
            for name, s in sprops.items()
            if isinstance(s, Mapping)
        }
        check_object(fields, dst, errors, key, by_form=True)


def check_object(
    fields: Mapping[str, Source],
    dst: Mapping[str, Any],
    errors: dict[str, str],
    where: str,
    *,
    by_form: bool = False,
    form: Mapping[str, Any] | None = None,
) -> None:
    """The fields a mapping (or a form's object) produces against the agency's object schema
    (of a union, the branch that fits; none fitting: the nearest branch's differences)."""
    branches = [b for b in _branches(dst) if b.get("type") != "null"] or [dst]
    if len(branches) > 1:
        trials: list[dict[str, str]] = []
        for b in branches:
            found: dict[str, str] = {}
            check_object(fields, b, found, where, by_form=by_form, form=form)
            if not found:
                return
            trials.append(found)
        best: dict[str, str] = min(trials, key=len)
        errors.update(best)
        return
    dst = branches[0]
    props = dst.get("properties") or {}
    closed = dst.get("additionalProperties") is False

    def key_of(name: str, src: Source) -> str:
        if src.form_field:
            return src.form_field if by_form else f"input_schema.{src.form_field}"
        return f"{where}.{name}"

    for name in dst.get("required") or []:
        src = fields.get(name)
        if src is None:
            errors[f"{where}.{name}"] = "the agency requires it; the form does not send it"
        elif not src.always:
            errors[key_of(name, src)] = f"the agency requires {name}; the form makes it optional"
    for name, src in fields.items():
        key = key_of(name, src)
        if name not in props:
            if closed:
                errors[key] = f"the agency does not take {name!r}"
            elif props:  # an open object ignores it: the form would ask for nothing
                errors[key] = f"the agency does not take {name!r} (it would be ignored)"
            continue
        target = props[name]
        if not isinstance(target, Mapping):
            continue
        if src.literal:
            if isinstance(src.value, Mapping) and not _is_plain(src.value):
                check_mapping(src.value, target, errors, f"{where}.{name}", form=form or {})
                continue
            if isinstance(src.value, list) and not _is_plain(src.value):
                items = next(
                    (b.get("items") for b in _branches(target) if b.get("type") == "array"),
                    target.get("items"),
                )
                for i, item in enumerate(src.value):
                    if not isinstance(items, Mapping):
                        break
                    if isinstance(item, Mapping):
                        check_mapping(item, items, errors, f"{where}.{name}.{i}", form=form or {})
                    else:
                        check_object(
                            {"_": source_of(item, form or {})},
                            {"properties": {"_": items}},
                            errors,
                            f"{where}.{name}.{i}",
                            form=form,
                        )
                continue
            problem = _validates(src.value, target)
            if problem is not None:
                errors[f"{where}.{name}"] = f"the agency refuses {src.value!r}: {problem}"
            continue
        if src.schema is None:
            continue
        if src.schema == {"not": {}}:
            errors[key] = "the mapping reads a field the form does not have"
            continue
        mismatch(src.schema, target, errors, key)


def _is_plain(value: Any) -> bool:
    """A literal without any ``$.`` expression inside."""
    if isinstance(value, Mapping):
        return all(_is_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    return not (isinstance(value, str) and _EXPR.match(value))


def check_mapping(
    mapping: Mapping[str, Any],
    dst: Mapping[str, Any],
    errors: dict[str, str],
    where: str,
    *,
    form: Mapping[str, Any],
) -> None:
    fields = {name: source_of(expr, form) for name, expr in mapping.items()}
    check_object(fields, dst, errors, where, form=form)


def check_step(
    step_name: str,
    method: str,
    template: str,
    mapping: Mapping[str, Any],
    form: Mapping[str, Any],
    contract: RequestContract,
) -> dict[str, str]:
    """Field → what differs, for one step's mapping against the operation's contract."""
    errors: dict[str, str] = {}
    where = f"steps.{step_name}"
    path_map = mapping.get("path") or {}
    for name, param in contract.path.items():
        if name in path_map:
            src = source_of(path_map[name], form)
            if src.schema not in (None, {"not": {}}):
                mismatch(src.schema, param.schema, errors, _key(src, f"{where}.path.{name}"))
    query_map = mapping.get("query") or {}
    params = {n: Param({**p.schema}, p.required) for n, p in contract.query.items()}
    qschema = {
        "type": "object",
        "properties": {n: p.schema for n, p in params.items()},
        "required": [n for n, p in params.items() if p.required],
        "additionalProperties": False,
    }
    if query_map or qschema["required"]:
        check_mapping(query_map, qschema, errors, f"{where}.query", form=form)
    body_map = mapping.get("body")
    if contract.body is None:
        if body_map:
            errors[f"{where}.body"] = f"{method} {template} takes no body"
    elif isinstance(body_map, Mapping):
        check_mapping(body_map, contract.body, errors, f"{where}.body", form=form)
    elif body_map is None and contract.body_required and (contract.body.get("required") or []):
        errors[f"{where}.body"] = "the agency requires a body; the mapping sends none"
    return errors


def _key(src: Source, fallback: str) -> str:
    return f"input_schema.{src.form_field}" if src.form_field else fallback


# -- submission: a payload against the agency's request -----------------------------------------
def _leaf_errors(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """Errors with a union (``oneOf``/``anyOf``) replaced by those of the branch the value was
    meant for: no ``const``/``enum`` miss (a discriminator such as ``kind``), then the fewest."""
    for err in errors:
        if err.validator not in ("oneOf", "anyOf") or not err.context:
            yield err
            continue
        branches: dict[Any, list[ValidationError]] = {}
        for sub in err.context:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
        chosen = min(
            branches.values(),
            key=lambda subs: (
                any(s.validator in ("const", "enum") and len(s.path) == 0 for s in subs)
                or any(s.validator in ("const", "enum") for s in subs if len(s.relative_path) == 1),
                len(subs),
            ),
        )
        yield from _leaf_errors(chosen)


def request_errors(
    body: Any,
    query: Mapping[str, Any],
    path: Mapping[str, Any],
    mapping: Mapping[str, Any],
    contract: RequestContract,
    *,
    deferred: set[str],
) -> dict[str, str]:
    """A resolved request (body, query, path values) against the contract; errors keyed by
    ``payload.<form field>`` where the mapping reads one, else ``payload``. ``deferred``:
    top-level body fields whose values come later (earlier steps' answers): not checked."""
    errors: dict[str, str] = {}

    def key_of(part: str, parts: list[str]) -> str:
        expr: Any = mapping.get(part) or {}
        for i, p in enumerate(parts):
            if isinstance(expr, Mapping) and p in expr:
                expr = expr[p]
                continue
            if isinstance(expr, str) and expr.startswith("$.payload."):
                return "payload." + ".".join([expr.removeprefix("$.payload."), *parts[i:]])
            break
        if isinstance(expr, str) and expr.startswith(("$.payload.", "$.payload_or_applicant.")):
            return "payload." + expr.split(".", 2)[2]
        return "payload"

    def run(part: str, value: Any, schema: Mapping[str, Any]) -> None:
        validator = Draft202012Validator(dict(schema), format_checker=FORMATS)
        for err in _leaf_errors(validator.iter_errors(value)):
            parts = [str(p) for p in err.absolute_path]
            if part == "body" and parts and parts[0] in deferred:
                continue
            if err.validator == "required" and isinstance(err.validator_value, list):
                for name in err.validator_value:
                    if isinstance(err.instance, Mapping) and name not in err.instance:
                        if part == "body" and not parts and name in deferred:
                            continue
                        errors.setdefault(key_of(part, [*parts, name]), "required by the agency")
                continue
            where = key_of(part, parts)
            errors.setdefault(where, f"the agency refuses it: {err.message[:300]}")

    if contract.body is not None and body is not None:
        run("body", body, contract.body)
    for name, value in path.items():
        param = contract.path.get(name)
        if param is not None:
            run("path", {name: value}, {"type": "object", "properties": {name: param.schema}})
    for name, value in query.items():
        param = contract.query.get(name)
        if param is not None:
            run("query", {name: value}, {"type": "object", "properties": {name: param.schema}})
    return errors


# -- a service against its agency ---------------------------------------------------------------
def first_step_mapping(service: Any) -> tuple[str, str, Mapping[str, Any]] | None:
    """(step name, operation id, input mapping) of the step a simple service runs: its explicit
    ``steps[0]`` or the default mapping (``default_mapping``); None for a composite."""
    if service.kind != "simple":
        return None
    if service.steps:
        step = service.steps[0]
        return step.name, step.operation.id, step.input
    if not service.operations:
        return None
    props = (service.input_schema or {}).get("properties") or {}
    operation = service.operations[0].id
    return "run", operation, default_mapping(operation, list(props))


def service_contract_errors(
    service: Any, documents: Mapping[str, Mapping[str, Any] | None]
) -> dict[str, str] | None:
    """What differs between a simple service and its agency's published request; ``None``
    when the check cannot run yet (the agency's document is not fetched). Composites: {}."""
    found = first_step_mapping(service)
    if found is None:
        return {}
    name, operation_id, mapping = found
    agency, _, rest = operation_id.partition(":")
    method, _, template = rest.partition(" ")
    document = documents.get(agency)
    if not document:
        return None
    contract = request_contract(document, method, template)
    if contract is None:
        return {f"steps.{name}.operation": f"{agency} does not publish {method} {template}"}
    return check_step(name, method, template, mapping, service.input_schema or {}, contract)


def _deferred(expr: Any) -> bool:
    """A value known only when the process runs (an earlier step's or the record's answer)."""
    if isinstance(expr, Mapping):
        return any(_deferred(v) for v in expr.values())
    if isinstance(expr, list):
        return any(_deferred(v) for v in expr)
    return isinstance(expr, str) and expr.startswith(("$.steps.", "$.person."))


def submission_errors(
    service: Any,
    payload: Mapping[str, Any],
    applicant: str,
    documents: Mapping[str, Mapping[str, Any] | None],
    *,
    scope: Mapping[str, Any],
) -> dict[str, str]:
    """A payload, mapped onto the first agency step (a simple service's only one), against the
    operation's published request; ``payload.<field>`` → what the agency would refuse.
    Nothing when the agency's document is not fetched yet or the step is optional."""
    if service.kind == "simple":
        found = first_step_mapping(service)
    elif service.steps and not service.steps[0].when:
        step = service.steps[0]
        found = (step.name, step.operation.id, step.input)
    else:
        found = None
    if found is None:
        return {}
    _, operation_id, mapping = found
    agency, _, rest = operation_id.partition(":")
    method, _, template = rest.partition(" ")
    contract = request_contract(documents.get(agency), method, template)
    if contract is None:
        return {}
    body_map = mapping.get("body")
    deferred = (
        {k for k, v in body_map.items() if _deferred(v)} if isinstance(body_map, Mapping) else set()
    )
    path = {
        k: v
        for k, v in resolve(dict(mapping.get("path") or {}), scope).items()
        if not _deferred((mapping.get("path") or {}).get(k))
    }
    query = {
        k: v
        for k, v in resolve(dict(mapping.get("query") or {}), scope).items()
        if not _deferred((mapping.get("query") or {}).get(k))
    }
    body = resolve(body_map, scope) if body_map is not None else None
    if body is None and method in ("POST", "PUT", "PATCH") and contract.body is not None:
        body = {}
    return request_errors(body, query, path, mapping, contract, deferred=deferred)
