"""Operators' roles: what a person signed in as an operator may do (deploy/RUNBOOK.md,
"Operator credentials").

Operators are people in identity. Their credential carries roles; an operator signs in like
a citizen (IIN + password + one-time code) and gets a short-lived access token of kind
``operator`` with a ``roles`` claim. The gateway's admin API, identity's admin API and the
gateway's audit endpoints verify that token (identity's JWKS, audience, expiry, session not
revoked) and check one role each:

- ``register-admin``: the Unified Register (gateway ``/api/v1/admin/*``: members, grants,
  services);
- ``identity-admin``: identity's ``/admin/*`` (agency clients, signing keys, sessions,
  operators and their roles);
- ``auditor``: the gateway's audit log (``/api/v1/audit``, ``/api/v1/audit/verify``);
- ``centre-operator``: a public service centre operator (serves citizens at the counter;
  searches persons).
"""

from __future__ import annotations

from typing import Final, Literal

OperatorRole = Literal["register-admin", "identity-admin", "auditor", "centre-operator"]

REGISTER_ADMIN: Final = "register-admin"
IDENTITY_ADMIN: Final = "identity-admin"
AUDITOR: Final = "auditor"
CENTRE_OPERATOR: Final = "centre-operator"

#: every role an operator's credential may carry, with what it allows
OPERATOR_ROLES: Final[dict[str, str]] = {
    REGISTER_ADMIN: "change the Unified Register: members, grants, services (gateway admin API)",
    IDENTITY_ADMIN: "agency clients, signing keys, sessions, operators (identity admin API)",
    AUDITOR: "search and verify the gateway's audit log",
    CENTRE_OPERATOR: "serve citizens at a public service centre",
}

#: the audit log's client of a call made with a static break-glass token (names no one)
BREAK_GLASS: Final = "break-glass"
