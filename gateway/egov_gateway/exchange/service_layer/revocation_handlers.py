"""svc-identity's revocations reach the gateway: recorded once in ``gateway_revocations``
(every replica polls that table into its deny list: :mod:`egov_gateway.exchange.adapters.revocation`)."""

from __future__ import annotations

from typing import Any

from egov_gateway.exchange.adapters.revocation import key_retirement, record, session_revocation
from meshkit.contracts.identity import SessionRevoked, SigningKeyRetired
from meshkit.events import TypedEvent
from meshkit.messaging import HandlerRegistry, UnitOfWork

revocation_handlers = HandlerRegistry()


@revocation_handlers.on(SessionRevoked)
async def on_session_revoked(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: SessionRevoked = event.data
    await record(uow.session, session_revocation(d.iin, d.session_id, d.reason, d.revoked_at))


@revocation_handlers.on(SigningKeyRetired)
async def on_signing_key_retired(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    d: SigningKeyRetired = event.data
    await record(uow.session, key_retirement(d.kid, d.retired_at))
