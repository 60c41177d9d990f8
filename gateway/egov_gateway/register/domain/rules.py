"""Rules a public service (and a composite service's steps) must satisfy to enter the register."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from egov_gateway.register.domain.catalogue import RegisterSnapshot
from egov_gateway.register.domain.model import (
    CODE_PATTERN,
    CompositeStep,
    OperationKey,
    PublicService,
)
from meshkit.errors import RuleViolation

CHANNELS = {"portal", "mobile", "public_service_center", "agency_office", "api"}
RECIPIENTS = {"individual", "legal_entity"}
MAPPING_PARTS = {"path", "query", "body"}
_STEP_REF = re.compile(r"^\$\.steps\.([A-Za-z_][A-Za-z0-9_]*)\.(result|event)(\.[A-Za-z0-9_]+)*$")
_PAYLOAD_REF = re.compile(r"^\$\.payload(\.[A-Za-z0-9_]+)+$")
# computed by the process engine: a date n days after submission, the applicant's own record
_DERIVED_REF = re.compile(
    r"^\$\.(today_plus_days\.[0-9]{1,3}|person\.[A-Za-z0-9_.]+|application_id)$"
)
_FIELD_PATH = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


def validate_service(
    service: PublicService, register: RegisterSnapshot, event_types: Collection[str]
) -> None:
    """Raise RuleViolation with field errors when ``service`` cannot enter the register."""
    errors: dict[str, str] = {}
    if not CODE_PATTERN.match(service.code):
        errors["code"] = "lower-case letters, digits and '-', 2..50 characters"
    if service.agency not in register.members:
        errors["agency"] = f"no member {service.agency!r} in the register"
    for lang in ("kk", "ru", "en"):
        if not getattr(service.name, lang).strip():
            errors[f"names.{lang}"] = "a name is required in each language"
    if service.fee_tiyn < 0:
        errors["fee_tiyn"] = "a fee cannot be negative"
    if service.sla.amount <= 0:
        errors["sla.amount"] = "the term must be positive"
    if not service.channels:
        errors["channels"] = "at least one channel"
    for ch in service.channels:
        if ch not in CHANNELS:
            errors["channels"] = f"unknown channel {ch!r} (one of {sorted(CHANNELS)})"
    for r in service.recipients:
        if r not in RECIPIENTS:
            errors["recipients"] = f"unknown recipient {r!r} (one of {sorted(RECIPIENTS)})"
    try:
        Draft202012Validator.check_schema(service.input_schema)
        if service.input_schema.get("type") != "object":
            errors["input_schema"] = "the input schema must describe an object"
    except SchemaError as exc:
        errors["input_schema"] = f"not a valid JSON Schema: {exc.message}"
    if service.subject_param is not None and not service.subject_param.isidentifier():
        errors["subject_param"] = "must be a parameter name"

    if service.kind == "simple":
        if not service.operations:
            errors["operations"] = "a simple service runs at least one operation"
        # a simple service may map the form onto its one operation (fixed amounts, the
        # applicant's IIN) with a single step
        if len(service.steps) > 1:
            errors["steps"] = "a simple service has at most one step (its operation's mapping)"
        elif service.steps:
            if service.steps[0].operation not in service.operations:
                errors["steps.0.operation"] = "must be one of the service's operations"
            errors.update(_step_errors(service.steps, register, event_types))
    else:
        if len(service.steps) < 2:
            errors["steps"] = "a composite service has at least two steps"
        errors.update(_step_errors(service.steps, register, event_types))
    for i, op in enumerate(service.operations):
        if not register.knows(op):
            errors[f"operations.{i}"] = f"{op.id} is not an operation of member {op.agency}"
        elif service.public and not register.members[op.agency].is_public_path(op.path):
            errors[f"operations.{i}"] = f"{op.id} needs authentication: a public service "
            "may only run public operations"
    if errors:
        raise RuleViolation(f"service {service.code} is not valid", errors=errors)


def _step_errors(
    steps: list[CompositeStep], register: RegisterSnapshot, event_types: Collection[str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for i, step in enumerate(steps):
        where = f"steps.{i}"
        if not step.name.isidentifier():
            errors[f"{where}.name"] = "a step name is an identifier"
        if step.name in seen:
            errors[f"{where}.name"] = f"step {step.name!r} is named twice"
        if not register.knows(step.operation):
            errors[f"{where}.operation"] = f"{step.operation.id} is not a known operation"
        else:
            err = _mapping_error(step.input, step.operation, register, seen)
            if err:
                errors[f"{where}.input"] = err
        if step.completes_on is not None and step.completes_on not in event_types:
            errors[f"{where}.completes_on"] = f"{step.completes_on!r} is not a known event type"
        if step.when is not None:
            err = _expression_error(step.when, seen)
            if err:
                errors[f"{where}.when"] = err
        for j, expr in enumerate(step.wait_for):
            err = _expression_error(expr, seen)
            if err:
                errors[f"{where}.wait_for.{j}"] = err
        if (step.wait_for or step.completes_when) and step.completes_on is None:
            errors[f"{where}.completes_on"] = (
                "wait_for and completes_when need an event to wait for"
            )
        for part in ("completes_when", "fails_when"):
            for path, values in getattr(step, part).items():
                if not _FIELD_PATH.match(path) or not isinstance(values, list) or not values:
                    errors[f"{where}.{part}"] = (
                        "map dotted fields of the answer to a non-empty list of values"
                    )
        if step.compensation is not None:
            if not register.knows(step.compensation):
                errors[f"{where}.compensation"] = f"{step.compensation.id} is not a known operation"
            else:
                err = _mapping_error(
                    step.compensation_input, step.compensation, register, seen | {step.name}
                )
                if err:
                    errors[f"{where}.compensation_input"] = err
        seen.add(step.name)
    return errors


def _mapping_error(
    mapping: Mapping[str, Any], op: OperationKey, register: RegisterSnapshot, earlier: set[str]
) -> str | None:
    unknown = set(mapping) - MAPPING_PARTS
    if unknown:
        return f"unknown parts {sorted(unknown)}: use path, query and body"
    path_map = mapping.get("path", {})
    if not isinstance(path_map, Mapping):
        return "path must map parameter names to expressions"
    wanted = set(register.path_params_of(op))
    if set(path_map) != wanted:
        return f"path must map exactly the parameters {sorted(wanted)} of {op.path}"
    for expr in _expressions(mapping):
        if expr.startswith("$."):
            err = _expression_error(expr, earlier)
            if err:
                return err
    return None


def _expression_error(expr: str, earlier: set[str]) -> str | None:
    m = _STEP_REF.match(expr)
    if m:
        if m.group(1) not in earlier:
            return f"{expr} refers to a step that does not run before this one"
        return None
    if _PAYLOAD_REF.match(expr) or expr == "$.applicant" or _DERIVED_REF.match(expr):
        return None
    return f"{expr} is not $.payload.<field>, $.applicant or $.steps.<step>.result|event.<field>"


def _expressions(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [e for v in value.values() for e in _expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in _expressions(v)]
    return []
