"""Proactive rules of the Unified Register: a life event makes the state offer services.

A rule names the event type that triggers it, the public service to offer, to whom (fields of
the event holding IINs, or ``$.applicant``: the person whose application caused the event),
how the offered service's payload is filled from what the state already holds, and for how
long the offer stands. ``unless_applied`` lists services whose application by the recipient
(for the same event, or within the offer's validity) means the offer is not needed.
``exclusive``: the offers of one event are alternatives (one allowance per child) — accepting
one withdraws the others.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from egov_gateway.register.domain.model import Localized
from meshkit.errors import RuleViolation
from meshkit.ids import is_valid_iin

APPLICANT = "$.applicant"
RECIPIENT = "$.recipient"
_EVENT_REF = re.compile(r"^\$\.event\.([A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class ProactiveRule:
    code: str
    event_type: str
    service_code: str
    recipients: tuple[str, ...]  # "$.event.<field>" (an IIN or a list of IINs) or "$.applicant"
    payload: Mapping[str, Any]  # service input field → "$.event.<field>" | "$.recipient" | literal
    title: Localized
    valid_days: int = 30
    unless_applied: tuple[str, ...] = ()
    exclusive: bool = False
    important: bool = True
    # fields of the service input the state does not hold: the citizen adds them on accept
    citizen_supplies: tuple[str, ...] = field(default_factory=tuple)

    def needs_applicant(self) -> bool:
        return APPLICANT in self.recipients

    def recipients_of(self, data: Mapping[str, Any], applicant: str | None) -> list[str]:
        """The distinct valid IINs this rule offers to, in declaration order."""
        found: list[str] = []
        for ref in self.recipients:
            values: Iterable[Any]
            if ref == APPLICANT:
                values = [applicant]
            else:
                m = _EVENT_REF.match(ref)
                value = data.get(m.group(1)) if m else None
                values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, str) and is_valid_iin(v) and v not in found:
                    found.append(v)
        return found

    def prefill(self, data: Mapping[str, Any], recipient: str) -> dict[str, Any]:
        """The offered service's input, from the event (what the state holds) and the recipient."""
        out: dict[str, Any] = {}
        for name, expr in self.payload.items():
            if expr == RECIPIENT:
                out[name] = recipient
            elif isinstance(expr, str) and (m := _EVENT_REF.match(expr)):
                value = data.get(m.group(1))
                if value is not None:
                    out[name] = value
            else:
                out[name] = expr
        return out


def validate_rules(
    rules: Collection[ProactiveRule], services: Collection[str], event_types: Collection[str]
) -> None:
    """Raise RuleViolation when a rule names an unknown event, service or expression."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for rule in rules:
        where = f"rules.{rule.code}"
        if rule.code in seen:
            errors[f"{where}.code"] = "declared twice"
        seen.add(rule.code)
        if rule.event_type not in event_types:
            errors[f"{where}.event_type"] = f"{rule.event_type!r} is not a known event type"
        for code in (rule.service_code, *rule.unless_applied):
            if code not in services:
                errors[f"{where}.service_code"] = f"{code!r} is not a service of the register"
        if not rule.recipients:
            errors[f"{where}.recipients"] = "a rule offers to somebody"
        for ref in rule.recipients:
            if ref != APPLICANT and not _EVENT_REF.match(ref):
                errors[f"{where}.recipients"] = f"{ref!r} is not $.event.<field> or $.applicant"
        for name, expr in rule.payload.items():
            if (
                isinstance(expr, str)
                and expr.startswith("$.")
                and expr != RECIPIENT
                and not _EVENT_REF.match(expr)
            ):
                errors[f"{where}.payload.{name}"] = f"{expr!r} is not $.event.<field>"
        if rule.valid_days <= 0:
            errors[f"{where}.valid_days"] = "an offer stands for at least a day"
    if errors:
        raise RuleViolation("the proactive rules are not valid", errors=errors)
