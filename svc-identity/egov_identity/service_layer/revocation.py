"""Session revocation that reaches whoever accepts identity's access tokens.

Revoking a session at identity (the refresh-token family) ends refreshes and makes
introspection answer ``active: false``, but access tokens are stateless for their lifetime.
So every revocation also writes ``kz.egov.identity.session.revoked.v1`` into identity's
outbox, in the same transaction as the change: the gateway keeps a deny list from it.
"""

from __future__ import annotations

from datetime import datetime

from egov_identity.domain.tokens import RefreshTokenFamily
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from meshkit.contracts.identity import SessionRevocationReason, SessionRevoked


def announce(
    uow: IdentityUnitOfWork,
    iin: str,
    reason: SessionRevocationReason,
    now: datetime,
    *,
    session_id: str | None = None,
) -> None:
    """One event: the session ``session_id`` (or, when None, every session of ``iin``
    that existed at ``now``) is revoked."""
    uow.emit(
        SessionRevoked(iin=iin, session_id=session_id, reason=reason, revoked_at=now),
        subject=iin,
    )


async def revoke_family(
    uow: IdentityUnitOfWork,
    family: RefreshTokenFamily,
    reason: SessionRevocationReason,
    label: str,
    now: datetime,
) -> bool:
    """Revoke one session (if still active) and announce it; False when it already was."""
    if not family.revoke(label, now):
        return False
    await uow.tokens.save_family(family)
    announce(uow, family.subject, reason, now, session_id=family.id)
    return True


async def revoke_every_session(
    uow: IdentityUnitOfWork,
    iin: str,
    reason: SessionRevocationReason,
    label: str,
    now: datetime,
) -> int:
    """Revoke every active session of a person and announce it with ONE event
    (``session_id`` null: every token of the person issued up to ``now``). The event is
    written even when no session is active: an access token may outlive its session's
    refresh tokens, and a consumer's deny list is cheap."""
    revoked = 0
    for family in await uow.tokens.families_of(iin):
        if family.revoke(label, now):
            await uow.tokens.save_family(family)
            revoked += 1
    announce(uow, iin, reason, now)
    return revoked
