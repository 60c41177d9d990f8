"""The :class:`Acquirer` adapter for the built-in sandbox bank.

Payment sessions and refunds are requested from the bank in-process (it lives in this
service); its answers come back like a real bank's — as HMAC-signed HTTP callbacks — and are
verified here. A real bank is another class like this one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from egov_payments.adapters.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid
from egov_payments.domain.acquirer import (
    AcquirerNotification,
    CallbackRejected,
    NotificationType,
    PaymentSession,
    SettlementRecord,
)
from egov_payments.sandbox_acquirer.bank import SandboxBank
from meshkit.contracts.common import Tiyn


class CallbackBody(BaseModel):
    """The sandbox bank's callback document."""

    event_id: str = Field(min_length=1, max_length=100)
    type: NotificationType
    payment_id: str = Field(min_length=1, max_length=40)
    acquirer_payment_id: str | None = None
    refund_id: str | None = Field(default=None, max_length=40)
    amount_tiyn: Tiyn = Field(gt=0)
    currency: str = Field(default="KZT", pattern=r"^[A-Z]{3}$")
    occurred_at: datetime


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


class SandboxAcquirer:
    def __init__(
        self, bank: SandboxBank | None, *, code: str, secret: str | None, replay_window_s: int
    ) -> None:
        self.code = code
        self._bank = bank
        self._secret = secret
        self._window = replay_window_s

    def _require_bank(self) -> SandboxBank:
        if self._bank is None:
            from meshkit.errors import UpstreamUnavailable

            raise UpstreamUnavailable("the sandbox acquirer is not enabled")
        return self._bank

    async def start_payment(
        self, *, payment_id: str, amount_tiyn: int, description: str
    ) -> PaymentSession:
        acquirer_id, url = await self._require_bank().create_payment(
            merchant_payment_id=payment_id, amount_tiyn=amount_tiyn, description=description
        )
        return PaymentSession(acquirer_payment_id=acquirer_id, payment_url=url)

    async def request_refund(
        self, *, payment_id: str, acquirer_payment_id: str, refund_id: str, amount_tiyn: int
    ) -> None:
        await self._require_bank().refund(
            acquirer_payment_id=acquirer_payment_id,
            merchant_refund_id=refund_id,
            amount_tiyn=amount_tiyn,
        )

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> AcquirerNotification:
        timestamp = _header(headers, TIMESTAMP_HEADER)
        signature = _header(headers, SIGNATURE_HEADER)
        if not timestamp or not signature:
            raise CallbackRejected("unsigned", "the callback carries no timestamp and signature")
        if self._secret is None:
            raise CallbackRejected("bad_signature", "no acquirer secret is configured")
        if not signature_valid(self._secret, timestamp, body, signature):
            raise CallbackRejected("bad_signature", "the signature does not match the body")
        try:
            signed_at = int(timestamp)
        except ValueError:
            raise CallbackRejected("malformed", "the timestamp is not unix seconds") from None
        if abs(now.timestamp() - signed_at) > self._window:
            raise CallbackRejected(
                "stale", f"signed {int(now.timestamp()) - signed_at}s ago; window {self._window}s"
            )
        try:
            doc = CallbackBody.model_validate(json.loads(body))
        except RecursionError:  # (the service's body limits refuse deep nesting before this)
            raise CallbackRejected("malformed", "the document is nested too deeply") from None
        except (ValidationError, ValueError) as exc:
            raise CallbackRejected("malformed", f"not a callback document: {exc}"[:500]) from None
        if doc.type.startswith("refund.") and not doc.refund_id:
            raise CallbackRejected("malformed", "a refund callback names the refund")
        occurred = (
            doc.occurred_at if doc.occurred_at.tzinfo else doc.occurred_at.replace(tzinfo=UTC)
        )
        return AcquirerNotification(
            acquirer=self.code,
            event_id=doc.event_id,
            type=doc.type,
            payment_id=doc.payment_id,
            acquirer_payment_id=doc.acquirer_payment_id,
            refund_id=doc.refund_id,
            amount_tiyn=doc.amount_tiyn,
            currency=doc.currency,
            occurred_at=occurred,
        )

    async def settlement_report(self, start: datetime, end: datetime) -> list[SettlementRecord]:
        if self._bank is None:
            return []
        return await self._bank.statement(start, end)


def callback_document(**fields: Any) -> bytes:
    return CallbackBody(**fields).model_dump_json().encode()
