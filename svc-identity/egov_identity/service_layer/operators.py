"""Operators: people whose credential carries roles (``meshkit.auth.roles``), and who may use
the admin APIs with their own access token instead of a shared static token.

An identity admin grants roles (``PUT /admin/operators/{iin}``); the person sets a password
with a code sent to their registered phone (``/auth/password/request``), signs in like a
citizen (password + one-time code) and gets an access token of kind ``operator`` with a
``roles`` claim. A change of roles ends the person's sessions at once (announced as
``session.revoked``: the gateway's deny list drops their tokens), so no token carries roles
the person no longer holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from egov_identity.domain.credentials import Credential
from egov_identity.service_layer.auth import AuthContext, introspect
from egov_identity.service_layer.revocation import revoke_every_session
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from meshkit.auth.roles import BREAK_GLASS
from meshkit.errors import NotFound, PermissionDenied, Unauthenticated

log = structlog.get_logger("identity.admin")


@dataclass(frozen=True)
class AdminActor:
    """Who administers: an operator (by IIN), the break-glass token, or the console
    (``python -m egov_identity operators``, run by whoever can reach the database)."""

    name: str
    iin: str | None = None

    @property
    def break_glass(self) -> bool:
        return self.name == BREAK_GLASS


BREAK_GLASS_ACTOR = AdminActor(BREAK_GLASS)


async def operator_with_role(ctx: AuthContext, token: str, role: str) -> AdminActor:
    """The operator an access token belongs to, holding ``role``: 401 for a token that is
    not one of ours, expired or of an ended session; 403 for anyone without the role
    (citizens, agencies, operators with other roles)."""
    claims = await introspect(ctx, token)
    if not claims.get("active"):
        raise Unauthenticated("the access token is not valid (expired, revoked or not ours)")
    roles = claims.get("roles")
    held = frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else ()
    if claims.get("kind") != "operator" or role not in held:
        raise PermissionDenied(f"this needs an operator with the role {role!r}")
    return AdminActor(name=str(claims["sub"]), iin=str(claims["sub"]))


@dataclass(frozen=True)
class OperatorView:
    iin: str
    roles: list[str]
    has_password: bool
    sessions_revoked: int = 0


async def list_operators(new_uow: Callable[[], IdentityUnitOfWork]) -> list[OperatorView]:
    async with new_uow() as uow:
        found = await uow.credentials.operators()
    return [OperatorView(c.iin, sorted(c.roles), c.password_hash is not None) for c in found]


async def set_roles(
    new_uow: Callable[[], IdentityUnitOfWork],
    iin: str,
    roles: Iterable[str],
    *,
    by: AdminActor,
    now: datetime,
) -> OperatorView:
    """Give a person exactly these operator roles (none: a citizen again). The person must
    be in the state database; a change ends every session of theirs (announced)."""
    async with new_uow() as uow:
        person = await uow.persons.get(iin)
        if person is None or person.is_deceased:
            raise NotFound("no living person with this IIN in the state database")
        credential = await uow.credentials.get(iin, for_update=True)
        is_new = credential is None
        if credential is None:  # no password yet: the person sets one by SMS code
            credential = Credential(iin=iin)
        before = sorted(credential.roles)
        changed = credential.set_roles(roles)
        revoked = 0
        if changed:
            if is_new:
                await uow.credentials.add(credential)
            else:
                await uow.credentials.save(credential)
            revoked = await revoke_every_session(
                uow, iin, "operator", "operator roles changed", now
            )
        await uow.commit()
    if changed:
        log.warning(
            "admin.operator_roles_changed",
            operator=iin,
            roles_before=before,
            roles=sorted(credential.roles),
            by=by.name,
        )
    return OperatorView(
        iin, sorted(credential.roles), credential.password_hash is not None, revoked
    )


def audit_fields(actor: AdminActor) -> dict[str, Any]:
    return {"actor": actor.name, "break_glass": actor.break_glass}
