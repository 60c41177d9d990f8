"""The sandbox bank: accepts payments, decides them on its page, refunds, and calls back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, wait_exponential

from egov_payments.adapters.signing import signed_headers
from egov_payments.domain.acquirer import SettlementRecord
from egov_payments.sandbox_acquirer.settings import SandboxAcquirerSettings
from egov_payments.sandbox_acquirer.tables import (
    sandbox_notifications,
    sandbox_payments,
    sandbox_refunds,
)
from meshkit.errors import Conflict, NotFound, RuleViolation

log = structlog.get_logger("sandbox_acquirer")

RETRY_STATUSES = {409, 429, 500, 502, 503, 504}


def _undelivered(status: int | None) -> bool:
    """No answer, or one a bank delivers again later."""
    return status is None or status in RETRY_STATUSES


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class SandboxBank:
    def __init__(
        self,
        settings: SandboxAcquirerSettings,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        secret: str | None,
        callback_url: str,
        public_url: str,
        http: httpx.AsyncClient,
    ) -> None:
        self.settings = settings
        self._sf = session_factory
        self._secret = secret
        self.callback_url = callback_url
        self.public_url = public_url.rstrip("/")
        self.http = http
        self._tasks: set[asyncio.Task[None]] = set()

    # -- merchant API (called through the Acquirer adapter) ---------------------------------
    async def create_payment(
        self, *, merchant_payment_id: str, amount_tiyn: int, description: str
    ) -> tuple[str, str]:
        async with self._sf() as s, s.begin():
            row = (
                await s.execute(
                    select(sandbox_payments.c.id).where(
                        sandbox_payments.c.merchant_payment_id == merchant_payment_id
                    )
                )
            ).first()
            if row is not None:
                acquirer_id = str(row[0])
            else:
                acquirer_id = f"sbx_{uuid.uuid4().hex}"
                await s.execute(
                    insert(sandbox_payments).values(
                        id=acquirer_id,
                        merchant_payment_id=merchant_payment_id,
                        amount_tiyn=amount_tiyn,
                        description=description[:300],
                        status="pending",
                        refunded_tiyn=0,
                        created_at=datetime.now(UTC),
                    )
                )
        return acquirer_id, f"{self.public_url}/sandbox-acquirer/pay/{acquirer_id}"

    async def refund(
        self, *, acquirer_payment_id: str, merchant_refund_id: str, amount_tiyn: int
    ) -> None:
        now = datetime.now(UTC)
        async with self._sf() as s, s.begin():
            p = (
                await s.execute(
                    select(sandbox_payments)
                    .where(sandbox_payments.c.id == acquirer_payment_id)
                    .with_for_update()
                )
            ).first()
            if p is None:
                raise NotFound(f"the bank knows no payment {acquirer_payment_id}")
            done = (
                await s.execute(
                    select(sandbox_refunds.c.id).where(
                        sandbox_refunds.c.merchant_refund_id == merchant_refund_id
                    )
                )
            ).first()
            if done is not None:
                return  # the merchant retried; the bank already has it
            ok = p.status == "captured" and p.refunded_tiyn + amount_tiyn <= p.amount_tiyn
            refund_id = f"sbr_{uuid.uuid4().hex}"
            await s.execute(
                insert(sandbox_refunds).values(
                    id=refund_id,
                    acquirer_payment_id=acquirer_payment_id,
                    merchant_refund_id=merchant_refund_id,
                    amount_tiyn=amount_tiyn,
                    status="completed" if ok else "failed",
                    created_at=now,
                )
            )
            if ok:
                await s.execute(
                    update(sandbox_payments)
                    .where(sandbox_payments.c.id == acquirer_payment_id)
                    .values(refunded_tiyn=sandbox_payments.c.refunded_tiyn + amount_tiyn)
                )
            event_id = await self._owe_notification(
                s,
                type_="refund.completed" if ok else "refund.failed",
                payment_id=p.merchant_payment_id,
                acquirer_payment_id=acquirer_payment_id,
                refund_id=merchant_refund_id,
                amount_tiyn=amount_tiyn,
                at=now,
            )
        self.schedule(event_id)

    async def statement(self, start: datetime, end: datetime) -> list[SettlementRecord]:
        out: list[SettlementRecord] = []
        async with self._sf() as s:
            rows = await s.execute(
                select(sandbox_payments).where(
                    sandbox_payments.c.status == "captured",
                    sandbox_payments.c.decided_at >= start,
                    sandbox_payments.c.decided_at < end,
                )
            )
            for r in rows:
                at = _utc(r.decided_at)
                assert at is not None
                out.append(SettlementRecord("payment", r.merchant_payment_id, r.amount_tiyn, at))
            rows = await s.execute(
                select(sandbox_refunds).where(
                    sandbox_refunds.c.status == "completed",
                    sandbox_refunds.c.created_at >= start,
                    sandbox_refunds.c.created_at < end,
                )
            )
            for r in rows:
                at = _utc(r.created_at)
                assert at is not None
                out.append(SettlementRecord("refund", r.merchant_refund_id, r.amount_tiyn, at))
        return out

    # -- the payer's side (the payment page) ------------------------------------------------
    async def payment(self, acquirer_payment_id: str) -> dict[str, Any]:
        async with self._sf() as s:
            row = (
                await s.execute(
                    select(sandbox_payments).where(sandbox_payments.c.id == acquirer_payment_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"no payment {acquirer_payment_id} at the sandbox bank")
        return dict(row._mapping)

    async def decide(
        self, acquirer_payment_id: str, decision: Literal["approve", "decline"]
    ) -> str:
        now = datetime.now(UTC)
        async with self._sf() as s, s.begin():
            p = (
                await s.execute(
                    select(sandbox_payments)
                    .where(sandbox_payments.c.id == acquirer_payment_id)
                    .with_for_update()
                )
            ).first()
            if p is None:
                raise NotFound(f"no payment {acquirer_payment_id} at the sandbox bank")
            if p.status != "pending":
                raise Conflict(f"this payment was already {p.status}")
            status = "captured" if decision == "approve" else "declined"
            await s.execute(
                update(sandbox_payments)
                .where(sandbox_payments.c.id == acquirer_payment_id)
                .values(status=status, decided_at=now)
            )
            event_id = await self._owe_notification(
                s,
                type_=f"payment.{status}",
                payment_id=p.merchant_payment_id,
                acquirer_payment_id=acquirer_payment_id,
                refund_id=None,
                amount_tiyn=p.amount_tiyn,
                at=now,
            )
        self.schedule(event_id)
        return status

    # -- callbacks --------------------------------------------------------------------------
    async def _owe_notification(
        self,
        s: AsyncSession,
        *,
        type_: str,
        payment_id: str,
        acquirer_payment_id: str,
        refund_id: str | None,
        amount_tiyn: int,
        at: datetime,
    ) -> str:
        event_id = f"sbe_{uuid.uuid4().hex}"
        payload = {
            "event_id": event_id,
            "type": type_,
            "payment_id": payment_id,
            "acquirer_payment_id": acquirer_payment_id,
            "refund_id": refund_id,
            "amount_tiyn": amount_tiyn,
            "currency": "KZT",
            "occurred_at": at.isoformat(),
        }
        await s.execute(
            insert(sandbox_notifications).values(
                event_id=event_id,
                payload=json.dumps(payload),
                attempts=0,
                created_at=at,
            )
        )
        return event_id

    def schedule(self, event_id: str, *, delay_s: float | None = None) -> None:
        """Deliver a notification in the background (after the configured delay)."""
        task = asyncio.create_task(
            self._deliver(event_id, self.settings.callback_delay_s if delay_s is None else delay_s),
            name=f"sandbox-callback-{event_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event_id: str, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)  # the bank takes its time, like a real one
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential(multiplier=self.settings.retry_backoff_s, max=30.0),
            retry=retry_if_result(_undelivered),
            retry_error_callback=lambda state: None,  # gave up: logged below
        )
        status: int | None = await retrying(self.deliver_once, event_id)
        if _undelivered(status):
            log.warning("sandbox.callback_gave_up", event_id=event_id)

    async def deliver_once(self, event_id: str) -> int | None:
        """POST one notification, signed now; its HTTP status (None: no answer)."""
        async with self._sf() as s:
            row = (
                await s.execute(
                    select(sandbox_notifications.c.payload).where(
                        sandbox_notifications.c.event_id == event_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"the bank owes no notification {event_id}")
        if self._secret is None:
            log.error("sandbox.no_secret", event_id=event_id)
            return None
        body = str(row[0]).encode()
        headers = signed_headers(
            self._secret, body, timestamp=int(time.time()), acquirer=self.settings.code
        )
        status: int | None
        try:
            resp = await self.http.post(self.callback_url, content=body, headers=headers)
            status = resp.status_code
        except httpx.HTTPError as exc:
            log.warning("sandbox.callback_failed", event_id=event_id, error=repr(exc)[:300])
            status = None
        async with self._sf() as s, s.begin():
            values: dict[str, Any] = {
                "attempts": sandbox_notifications.c.attempts + 1,
                "last_status": status,
            }
            if status is not None and 200 <= status < 300:
                values["delivered_at"] = datetime.now(UTC)
            await s.execute(
                update(sandbox_notifications)
                .where(sandbox_notifications.c.event_id == event_id)
                .values(**values)
            )
        return status

    async def notification(self, event_id: str) -> dict[str, Any]:
        async with self._sf() as s:
            row = (
                await s.execute(
                    select(sandbox_notifications).where(
                        sandbox_notifications.c.event_id == event_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"the bank owes no notification {event_id}")
        return dict(row._mapping)

    async def notifications_for(self, merchant_payment_id: str) -> list[dict[str, Any]]:
        async with self._sf() as s:
            rows = await s.execute(
                select(sandbox_notifications).order_by(sandbox_notifications.c.created_at)
            )
            out = []
            for r in rows:
                payload = json.loads(r.payload)
                if payload["payment_id"] == merchant_payment_id:
                    out.append({**dict(r._mapping), "payload": payload})
        return out

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def validate_decision(self, value: str | None) -> Literal["approve", "decline"]:
        if value == "approve":
            return "approve"
        if value == "decline":
            return "decline"
        raise RuleViolation(
            "decision must be approve or decline", errors={"decision": "approve|decline"}
        )
