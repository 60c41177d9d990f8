"""Who may make a routed call: pure rules, no HTTP.

- public operations: anyone, with or without a token;
- citizens: only operations marked citizen-facing, and only on their own behalf — also when
  the single window runs a step of their application under their mandate (then only the
  operations of that service);
- agencies: only operations the operator granted them (the ACL of the register);
- operators administer the gateway; they do not call agencies through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from egov_gateway.exchange.domain.register_port import ResolvedOperation
from meshkit.auth.principal import Principal

CITIZEN_CLIENT = "citizen"
ANONYMOUS_CLIENT = "anonymous"


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str = ""
    code: Literal["", "forbidden", "purpose-required", "member-suspended"] = ""
    user: str | None = None  # the person on whose behalf the call is made


def client_of(principal: Principal | None) -> str:
    """The X-Mesh-Client of a caller: agency code, ``citizen``, ``operator`` or anonymous."""
    if principal is None:
        return ANONYMOUS_CLIENT
    if principal.kind == "agency":
        return principal.subject
    return principal.kind


def decide(
    principal: Principal | None,
    op: ResolvedOperation,
    *,
    requested_user: str | None,
    purpose: str | None,
    granted: bool,
    require_purpose: bool,
    mandate_covers: bool = False,
) -> AccessDecision:
    if op.member_status != "active":
        return AccessDecision(
            False, f"{op.agency} is suspended from the exchange", "member-suspended"
        )
    if principal is not None and principal.kind == "citizen":
        return _citizen_decision(principal, op, requested_user, mandate_covers)
    if op.public:
        return AccessDecision(True, user=requested_user)
    if principal is None:  # the caller authenticates first; kept for completeness
        return AccessDecision(False, "authentication required", "forbidden")
    if principal.kind != "agency":
        return AccessDecision(
            False, f"a {principal.kind} token cannot call agency operations", "forbidden"
        )
    if not granted:
        return AccessDecision(
            False, f"{principal.subject} is not granted {op.operation_id}", "forbidden"
        )
    if require_purpose and op.subject_value and not purpose:
        return AccessDecision(
            False,
            f"{op.operation_id} touches the data of {op.subject_value}: declare the purpose "
            "(legal basis) in X-Mesh-Purpose",
            "purpose-required",
        )
    return AccessDecision(True, user=requested_user)


def _citizen_decision(
    principal: Principal, op: ResolvedOperation, requested_user: str | None, mandate_covers: bool
) -> AccessDecision:
    """A citizen acts on their own behalf, on an operation open to citizens — and through the
    single window only within the service applied for."""
    if requested_user and requested_user != principal.subject:
        return AccessDecision(
            False, "a citizen may act only on their own behalf (X-Mesh-User)", "forbidden"
        )
    if not (op.citizen_facing or op.public):
        return AccessDecision(False, f"{op.operation_id} is not open to citizens", "forbidden")
    if principal.actor is not None and not mandate_covers:
        return AccessDecision(
            False,
            f"the citizen's application for {principal.mandate_service} does not run "
            f"{op.operation_id}",
            "forbidden",
        )
    return AccessDecision(True, user=principal.subject)
