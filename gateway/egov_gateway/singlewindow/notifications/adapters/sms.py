"""SMS for the important notifications, through identity's SMS outbox.

A notification marked ``sms_status = pending`` is written in the same transaction as the
notification itself; this dispatcher sends it afterwards through the routed exchange
(``POST /x/identity/notifications/sms`` as the member ``gateway``: authenticated, granted,
audited like any other exchange) and records the outcome. Failures are retried on the next
rounds (up to ``max_attempts``, about a minute at the default interval); a refusal that
retrying cannot cure (no such person, no phone) is marked ``failed`` at once — an SMS never blocks the inbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
import structlog

from egov_gateway.singlewindow.notifications.adapters.repository import NotificationRepository
from egov_gateway.singlewindow.notifications.domain.model import Notification, sms_text
from meshkit.errors import DomainError
from meshkit.gateway_client import GatewayClient
from meshkit.messaging.uow import UnitOfWork

log = structlog.get_logger("gateway.notifications.sms")

SMS_OPERATION = ("POST", "identity", "/notifications/sms")


@dataclass(frozen=True)
class SmsResult:
    ok: bool
    error: str | None = None
    permanent: bool = False  # retrying cannot help (e.g. the person has no phone)


class SmsSender(Protocol):
    async def send(self, iin: str, text: str, reference: str) -> SmsResult: ...


class RoutedSmsSender:
    """Asks identity (through the gateway's own routed exchange) to queue the text."""

    def __init__(self, client: GatewayClient) -> None:
        self.client = client

    async def send(self, iin: str, text: str, reference: str) -> SmsResult:
        method, agency, path = SMS_OPERATION
        try:
            resp = await self.client.request(
                method,
                agency,
                path,
                json={"iin": iin, "text": text, "reference": reference},
                purpose="notification of the citizen by the single window",
                on_behalf_of=iin,
            )
        except (DomainError, httpx.HTTPError) as exc:
            return SmsResult(False, f"identity unreachable: {type(exc).__name__}")
        if resp.status_code < 300:
            return SmsResult(True)
        permanent = resp.status_code in (400, 403, 404, 422)
        return SmsResult(False, f"identity answered {resp.status_code}", permanent=permanent)


class SmsDispatcher:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        sender: SmsSender,
        *,
        batch: int = 50,
        max_attempts: int = 30,
        lang: str = "ru",
    ) -> None:
        self._uow = uow_factory
        self.sender = sender
        self.batch = batch
        self.max_attempts = max_attempts
        self.lang = lang

    async def run_once(self) -> int:
        """Send what is pending; the number sent."""
        async with self._uow() as uow:
            pending = await NotificationRepository(uow.session).pending_sms(self.batch)
        sent = 0
        for n in pending:
            result = await self._send(n)
            attempts = n.sms_attempts + 1
            async with self._uow() as uow:
                await NotificationRepository(uow.session).sms_result(
                    n.id,
                    ok=result.ok,
                    error=result.error,
                    give_up=result.permanent or attempts >= self.max_attempts,
                )
                await uow.commit()
            if result.ok:
                sent += 1
            else:
                log.warning("sms.failed", notification=n.id, error=result.error)
        return sent

    async def _send(self, n: Notification) -> SmsResult:
        try:
            return await self.sender.send(
                n.citizen_iin, sms_text(n, self.lang), f"notification:{n.id}"
            )
        except Exception as exc:  # a sender bug must not stop the loop
            return SmsResult(False, repr(exc)[:200])

    async def loop(self, interval_s: float) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("sms.round_failed")
            await asyncio.sleep(interval_s)
