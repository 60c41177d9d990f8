"""The register's mapping language: how a service's form fills an agency operation.

A service of the register maps its steps' ``path``/``query``/``body`` from expressions —
``$.payload.<x>``, ``$.applicant``, ``$.steps.<name>.result.<x>``, ``$.person.<x>`` (the
applicant's own record, fetched once-only), ``$.today_plus_days.<n>`` — evaluated against a
scope when the application runs. The register owns this language (its data files are written
in it, its contract check reads them); the single window's applications evaluate it.
Pure Python: no HTTP, no SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from meshkit import calendar

#: the once-only step fetching the applicant's own record, which ``$.person.<x>`` reads
APPLICANT_STEP = "applicant_record"
_EXPR = re.compile(r"^\$\.[A-Za-z0-9_.]+$")


def path_params(template: str) -> list[str]:
    return re.findall(r"{([^}]+)}", template)


def default_mapping(operation: str, payload_fields: Iterable[str]) -> dict[str, Any]:
    """A simple service without explicit steps: path parameters from the payload (an IIN
    defaults to the applicant, once-only), the rest of the payload as the body (or the query
    of a read)."""
    method = operation.partition(":")[2].partition(" ")[0]
    template = operation.partition(":")[2].partition(" ")[2]
    params = path_params(template)
    fields = [f for f in payload_fields if f not in params]
    path = {
        p: (f"$.payload.{p}" if p not in ("iin",) else "$.payload_or_applicant.iin") for p in params
    }
    rest = {f: f"$.payload.{f}" for f in fields}
    mapping: dict[str, Any] = {"path": path}
    mapping["query" if method in ("GET", "DELETE") else "body"] = rest
    return mapping


def dig(value: Any, parts: Sequence[str]) -> Any:
    for part in parts:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def resolve(expr: Any, scope: Mapping[str, Any]) -> Any:
    """Evaluate one mapping value against ``scope`` (payload, applicant, steps, …).

    Strings like ``$.payload.x`` or ``$.steps.<name>.result.x`` are looked up; dicts and
    lists are resolved recursively; anything else is a literal. ``$.today_plus_days.<n>``
    gives the ISO date ``n`` days after submission (due dates of invoices).
    """
    if isinstance(expr, Mapping):
        out = {k: resolve(v, scope) for k, v in expr.items()}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(expr, list):
        return [resolve(v, scope) for v in expr]
    if not isinstance(expr, str) or not _EXPR.match(expr):
        return expr
    parts = expr[2:].split(".")
    head = parts[0]
    if head == "applicant":
        return scope.get("applicant")
    if head == "today_plus_days" and len(parts) == 2 and parts[1].isdigit():
        submitted: datetime = scope["submitted_at"]
        return (calendar.local_date(submitted) + timedelta(days=int(parts[1]))).isoformat()
    if head == "payload_or_applicant":
        found = dig(scope.get("payload"), parts[1:])
        return found if found is not None else scope.get("applicant")
    if head == "application_id":
        return scope.get("application_id")
    if head == "person":
        return dig(scope.get("steps", {}).get(APPLICANT_STEP, {}).get("result"), parts[1:])
    return dig(scope.get(head), parts[1:])
