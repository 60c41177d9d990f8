"""Notices to a person's registered phone, on behalf of other members of the exchange.

The e-government gateway tells citizens of what matters (an offer of the state, a service
rendered or refused, a term breached) by SMS; only identity knows the phone, so the gateway
asks identity to queue the text in its SMS outbox. The phone never leaves identity (the answer
carries it masked).
"""

from __future__ import annotations

from datetime import datetime

from egov_identity.domain.credentials import mask_phone
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from meshkit.auth.assertion import RoutedCall
from meshkit.errors import NotFound, PermissionDenied, RuleViolation

NOTICE_PURPOSE = "notice"


async def queue_notice_sms(
    uow: IdentityUnitOfWork, call: RoutedCall, iin: str, text: str, now: datetime
) -> str:
    """Queue ``text`` to the phone of ``iin``; the masked phone it goes to."""
    if call.is_citizen:
        raise PermissionDenied("citizens cannot send notices to other people's phones")
    async with uow:
        person = await uow.persons.get(iin)
        if person is None:
            raise NotFound(f"no person with IIN {iin}")
        if not person.phone:
            raise RuleViolation(
                f"person {iin} has no registered phone", errors={"iin": "no registered phone"}
            )
        await uow.sms.add(person.phone, text, NOTICE_PURPOSE, now)
        await uow.commit()
        return mask_phone(person.phone)
