"""The acquirer port: what the domain needs from a bank that takes card payments.

The sandbox acquirer implements it; a real bank is one more adapter implementing the same
protocol — the service layer and the domain do not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

NotificationType = Literal[
    "payment.captured", "payment.declined", "refund.completed", "refund.failed"
]


@dataclass(frozen=True)
class PaymentSession:
    acquirer_payment_id: str
    payment_url: str


@dataclass(frozen=True)
class AcquirerNotification:
    """A verified callback: the acquirer tells us what happened to a payment or refund."""

    acquirer: str
    event_id: str  # the acquirer's transaction/notification id: unique per fact
    type: NotificationType
    payment_id: str  # our payment id (the merchant order id)
    amount_tiyn: int
    currency: str  # ISO 4217, as the acquirer reports it: must be the invoice's own
    occurred_at: datetime
    acquirer_payment_id: str | None = None
    refund_id: str | None = None  # our refund id, for refund notifications


@dataclass(frozen=True)
class SettlementRecord:
    """One line of the acquirer's own statement of a day."""

    kind: Literal["payment", "refund"]
    reference: str  # our payment or refund id
    amount_tiyn: int
    at: datetime


class CallbackRejected(Exception):
    """A callback that must change nothing: why, as a short code and a sentence."""

    def __init__(
        self, reason: Literal["unsigned", "bad_signature", "stale", "malformed"], detail: str
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class Acquirer(Protocol):
    code: str

    async def start_payment(
        self, *, payment_id: str, amount_tiyn: int, description: str
    ) -> PaymentSession: ...

    async def request_refund(
        self, *, payment_id: str, acquirer_payment_id: str, refund_id: str, amount_tiyn: int
    ) -> None: ...

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> AcquirerNotification:
        """Authenticate and parse a callback, or raise :class:`CallbackRejected`."""
        ...

    async def settlement_report(self, start: datetime, end: datetime) -> list[SettlementRecord]:
        """The acquirer's records of captured payments and completed refunds in [start, end)."""
        ...
