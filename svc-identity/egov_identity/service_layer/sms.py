"""Texts to citizens' phones: the port an SMS provider implements, and delivery of the SMS
outbox through it.

Every text is first written to ``sms_outbox`` in the transaction of what it is about (a code
and its challenge, a notice). Then:

* a one-time code the person is waiting for (login, a centre consent) is delivered at once by
  the request that made it, after the commit: if the provider cannot take it, the request
  answers 503 ``sms-not-sent`` ("try again in a minute") and the text is given up — the
  person asks for a new code rather than getting a stale one later;
* everything else (notices, password reset codes, whose request answers the same whatever
  happens so as not to tell who has a phone) is delivered by the background loop, retried
  for ``SMS_MAX_ATTEMPTS_QUEUED`` rounds.

A text is claimed before it is handed over, so two instances never send it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from egov_identity.domain.credentials import mask_phone
from egov_identity.domain.errors import SmsNotSent
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from meshkit.clock import Clock
from meshkit.messaging.uow import UnitOfWork

log = structlog.get_logger("identity.sms")

#: codes delivered by the request that made them (the loop leaves them alone)
INLINE_PURPOSES = ("login", "centre_consent")


@dataclass(frozen=True)
class SmsMessage:
    id: int  # the outbox row: the provider's idempotency reference
    phone: str
    text: str
    purpose: str


class SmsNotDelivered(Exception):
    """The provider did not take the text (after its retries)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class SmsSender(Protocol):
    """The port: hand one text to whoever delivers it; raise SmsNotDelivered if it can't."""

    name: str

    async def send(self, message: SmsMessage) -> None: ...

    async def aclose(self) -> None: ...


def _new_uow(factory: Callable[[], UnitOfWork]) -> IdentityUnitOfWork:
    uow = factory()
    assert isinstance(uow, IdentityUnitOfWork)
    return uow


async def deliver_now(
    uow_factory: Callable[[], UnitOfWork], sender: SmsSender, sms_id: int, clock: Clock
) -> None:
    """Deliver one text the caller is waiting for; SmsNotSent if the provider fails."""
    uow = _new_uow(uow_factory)
    async with uow:
        row = await uow.sms.get(sms_id)
        if row is None or not await uow.sms.claim(sms_id, clock.now()):
            return  # already taken: someone else delivers it
        await uow.commit()
    message = SmsMessage(sms_id, row["phone"], row["text"], row["purpose"])
    try:
        await sender.send(message)
    except SmsNotDelivered as exc:
        uow = _new_uow(uow_factory)
        async with uow:
            await uow.sms.failed(sms_id, exc.reason, clock.now(), give_up=True)
            await uow.commit()
        log.warning(
            "sms.not_sent", sms_id=sms_id, phone=mask_phone(row["phone"]), reason=exc.reason
        )
        raise SmsNotSent() from None
    log.info("sms.sent", sms_id=sms_id, phone=mask_phone(row["phone"]), via=sender.name)


async def deliver_queued(
    uow_factory: Callable[[], UnitOfWork],
    sender: SmsSender,
    clock: Clock,
    *,
    max_attempts: int,
    batch: int = 50,
) -> int:
    """One round of the background loop: the texts nobody waits on; the number sent."""
    uow = _new_uow(uow_factory)
    async with uow:
        pending = await uow.sms.unsent(batch, except_purposes=INLINE_PURPOSES)
    sent = 0
    for row in pending:
        uow = _new_uow(uow_factory)
        async with uow:
            if not await uow.sms.claim(row["id"], clock.now()):
                continue
            await uow.commit()
        try:
            await sender.send(SmsMessage(row["id"], row["phone"], row["text"], row["purpose"]))
        except SmsNotDelivered as exc:
            give_up = exc.permanent or row["attempts"] + 1 >= max_attempts
            uow = _new_uow(uow_factory)
            async with uow:
                await uow.sms.failed(row["id"], exc.reason, clock.now(), give_up=give_up)
                await uow.commit()
            log.warning("sms.failed", sms_id=row["id"], reason=exc.reason, given_up=give_up)
            continue
        sent += 1
        log.info("sms.sent", sms_id=row["id"], phone=mask_phone(row["phone"]), via=sender.name)
    return sent
