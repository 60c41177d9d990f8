"""Implementations of the SMS port (``service_layer/sms.py``).

* :class:`OutboxSms` — dev mode: the text stays in ``sms_outbox``, where ``GET /dev/sms`` and
  the portal's development banner read it. Nothing leaves the machine.
* :class:`HttpSmsGateway` — an HTTP SMS gateway API: ``POST <SMS_GATEWAY_URL>`` with
  ``Authorization: Bearer <token>``, ``Idempotency-Key: sms-<id>`` and the JSON
  ``{"to": "+7…", "text": "…", "sender": "egov", "reference": "sms-<id>"}``; any 2xx is
  accepted. Timeouts, connection errors, 408, 429 and 5xx are retried (tenacity, exponential
  backoff) up to ``SMS_ATTEMPTS`` tries; any other answer is a refusal, not retried.
  A provider with another request shape is one more class of this port.
"""

from __future__ import annotations

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from egov_identity.domain.credentials import mask_phone
from egov_identity.service_layer.sms import SmsMessage, SmsNotDelivered, SmsSender
from egov_identity.settings import IdentitySettings

log = structlog.get_logger("identity.sms")


class OutboxSms:
    name = "outbox"

    async def send(self, message: SmsMessage) -> None:
        log.info("sms.kept_in_outbox", sms_id=message.id, phone=mask_phone(message.phone))

    async def aclose(self) -> None:
        return None


class _Transient(Exception):
    pass


class HttpSmsGateway:
    name = "http"

    def __init__(
        self,
        url: str,
        *,
        token: str | None,
        sender: str = "egov",
        timeout_s: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._token = token
        self.sender = sender
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            transport=transport or httpx.AsyncHTTPTransport(trust_env=False),
            follow_redirects=False,
        )

    async def send(self, message: SmsMessage) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_s, max=max(self.backoff_s * 8, 0.0)),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._post(message)
        except _Transient as exc:
            raise SmsNotDelivered(f"{exc} (after {self.attempts} tries)") from None

    async def _post(self, message: SmsMessage) -> None:
        reference = f"sms-{message.id}"
        headers = {"Idempotency-Key": reference}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            resp = await self._http.post(
                self.url,
                json={
                    "to": message.phone,
                    "text": message.text,
                    "sender": self.sender,
                    "reference": reference,
                },
                headers=headers,
            )
        except httpx.TimeoutException:
            raise _Transient("the SMS provider timed out") from None
        except httpx.TransportError as exc:
            raise _Transient(f"the SMS provider is unreachable ({type(exc).__name__})") from None
        if resp.status_code >= 500 or resp.status_code in (408, 429):
            raise _Transient(f"the SMS provider answered {resp.status_code}")
        if resp.status_code >= 300:
            raise SmsNotDelivered(
                f"the SMS provider refused the text ({resp.status_code})", permanent=True
            )

    async def aclose(self) -> None:
        await self._http.aclose()


class SmsNotConfigured(RuntimeError):
    pass


def sms_sender(settings: IdentitySettings) -> SmsSender:
    """The configured sender. Outside dev mode without a provider identity refuses to start:
    login codes would reach nobody."""
    provider = settings.sms_provider
    if provider == "auto":
        provider = "outbox" if settings.dev_mode else "http"
    if provider == "outbox":
        if not settings.dev_mode:
            log.warning(
                "sms.outbox_only",
                detail="IDENTITY_SMS_PROVIDER=outbox: texts stay in sms_outbox for your relay",
            )
        return OutboxSms()
    if not settings.sms_gateway_url:
        raise SmsNotConfigured(
            "no SMS provider: set IDENTITY_SMS_GATEWAY_URL (and IDENTITY_SMS_GATEWAY_TOKEN or "
            "IDENTITY_SMS_GATEWAY_TOKEN_FILE) — without it no login code reaches anyone; "
            "IDENTITY_SMS_PROVIDER=outbox keeps texts in the database for a relay of your own"
        )
    return HttpSmsGateway(
        settings.sms_gateway_url,
        token=settings.effective_sms_token,
        sender=settings.sms_sender,
        timeout_s=settings.sms_timeout_s,
        attempts=settings.sms_attempts,
        backoff_s=settings.sms_retry_backoff_s,
    )
