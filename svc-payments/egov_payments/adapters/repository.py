"""Repositories: the domain's aggregates in and out of the tables (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from egov_payments.adapters import orm
from egov_payments.domain.acquirer import AcquirerNotification
from egov_payments.domain.ledger import Posting, must_stay_non_negative
from egov_payments.domain.model import Invoice, Payment, Payout, Refund

T = TypeVar("T")


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _to_domain(cls: type[T], row: Any) -> T:
    data = dict(row._mapping)
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    kwargs = {k: (utc(v) if isinstance(v, datetime) else v) for k, v in data.items() if k in names}
    return cls(**kwargs)


class _Table:
    table: Table
    model: type[Any]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _get(self, id_: str, *, for_update: bool = False) -> Any:
        stmt = select(self.table).where(self.table.c.id == id_)
        if for_update:
            stmt = stmt.with_for_update()  # SQLite: a no-op; BEGIN IMMEDIATE serialises writers
        row = (await self.session.execute(stmt)).first()
        return None if row is None else _to_domain(self.model, row)

    async def add(self, obj: Any) -> None:
        await self.session.execute(insert(self.table).values(**asdict(obj)))

    async def save(self, obj: Any) -> None:
        values = asdict(obj)
        id_ = values.pop("id")
        await self.session.execute(
            update(self.table).where(self.table.c.id == id_).values(**values)
        )


class InvoiceRepository(_Table):
    table = orm.invoices
    model = Invoice

    async def get(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        found: Invoice | None = await self._get(invoice_id, for_update=for_update)
        return found

    async def for_payer(self, iin_or_bin: str, *, limit: int = 200) -> list[Invoice]:
        t = self.table
        rows = await self.session.execute(
            select(t)
            .where(or_(t.c.payer == iin_or_bin, t.c.payer_representative_iin == iin_or_bin))
            .order_by(t.c.created_at.desc())
            .limit(limit)
        )
        return [_to_domain(Invoice, r) for r in rows]

    async def for_beneficiary(
        self, agency: str, *, payer: str | None = None, limit: int = 200
    ) -> list[Invoice]:
        t = self.table
        stmt = select(t).where(t.c.beneficiary_agency == agency)
        if payer:
            stmt = stmt.where(or_(t.c.payer == payer, t.c.payer_representative_iin == payer))
        rows = await self.session.execute(stmt.order_by(t.c.created_at.desc()).limit(limit))
        return [_to_domain(Invoice, r) for r in rows]

    async def overdue_ids(self, today: date, *, limit: int = 500) -> list[str]:
        t = self.table
        rows = await self.session.execute(
            select(t.c.id).where(t.c.status == "issued", t.c.due_date < today).limit(limit)
        )
        return list(rows.scalars())


class PaymentRepository(_Table):
    table = orm.payments
    model = Payment

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        found: Payment | None = await self._get(payment_id, for_update=for_update)
        return found

    async def for_invoice(self, invoice_id: str) -> list[Payment]:
        rows = await self.session.execute(
            select(self.table)
            .where(self.table.c.invoice_id == invoice_id)
            .order_by(self.table.c.created_at)
        )
        return [_to_domain(Payment, r) for r in rows]


class RefundRepository(_Table):
    table = orm.refunds
    model = Refund

    async def get(self, refund_id: str, *, for_update: bool = False) -> Refund | None:
        found: Refund | None = await self._get(refund_id, for_update=for_update)
        return found


class PayoutRepository(_Table):
    table = orm.payouts
    model = Payout

    async def get(self, payout_id: str) -> Payout | None:
        found: Payout | None = await self._get(payout_id)
        return found

    async def allowance(self, kind: str, subject_iin: str) -> Payout | None:
        """The allowance of this kind already paid for this subject, if any."""
        t = self.table
        row = (
            await self.session.execute(
                select(t).where(t.c.allowance_kind == kind, t.c.subject_iin == subject_iin)
            )
        ).first()
        return None if row is None else _to_domain(Payout, row)


class LedgerRepository:
    """Appends postings and keeps the balance table in step, under row locks."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self) -> Any:
        dialect = self.session.get_bind().dialect.name
        maker = pg_insert if dialect == "postgresql" else sqlite_insert
        return maker(orm.account_balances)

    async def lock_balances(self, accounts: Sequence[str], now: datetime) -> dict[str, int]:
        """Lock the balance rows of ``accounts`` (in name order: no deadlocks) and read them.

        Only accounts that must stay non-negative keep a balance row; the others' balances are
        the sums of their entries (no hot row for the clearing account or the payers).
        """
        wanted = sorted(set(accounts))
        if not wanted:
            return {}
        t = orm.account_balances
        stmt = self._insert().on_conflict_do_nothing(index_elements=["account"])
        await self.session.execute(
            stmt, [{"account": a, "balance_tiyn": 0, "updated_at": now} for a in wanted]
        )
        rows = await self.session.execute(
            select(t.c.account, t.c.balance_tiyn)
            .where(t.c.account.in_(wanted))
            .order_by(t.c.account)
            .with_for_update()
        )
        return {a: int(b) for a, b in rows.all()}

    async def exists(self, kind: str, reference: str) -> bool:
        t = orm.ledger_transactions
        row = await self.session.execute(
            select(t.c.id).where(t.c.kind == kind, t.c.reference == reference)
        )
        return row.first() is not None

    async def append(self, posting: Posting) -> None:
        """Write a posting whose funds were checked against balances locked by this txn."""
        await self.session.execute(
            insert(orm.ledger_transactions).values(
                id=posting.id,
                kind=posting.kind,
                reference=posting.reference,
                description=posting.description[:300],
                agency=posting.agency,
                kbk=posting.kbk,
                invoice_id=posting.invoice_id,
                business_date=posting.business_date,
                created_at=posting.created_at,
            )
        )
        await self.session.execute(
            insert(orm.ledger_entries),
            [
                {
                    "transaction_id": posting.id,
                    "account": e.account,
                    "amount_tiyn": e.amount_tiyn,
                    "created_at": posting.created_at,
                }
                for e in posting.entries
            ],
        )
        t = orm.account_balances
        for account, delta in sorted(posting.deltas().items()):
            if not must_stay_non_negative(account):
                continue
            # one statement, last in the transaction: a credit holds the row lock only briefly
            stmt = self._insert().values(
                account=account, balance_tiyn=delta, updated_at=posting.created_at
            )
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["account"],
                    set_={
                        "balance_tiyn": t.c.balance_tiyn + stmt.excluded.balance_tiyn,
                        "updated_at": stmt.excluded.updated_at,
                    },
                )
            )

    async def balance(self, account: str) -> int:
        t = orm.ledger_entries
        value = await self.session.execute(
            select(func.coalesce(func.sum(t.c.amount_tiyn), 0)).where(t.c.account == account)
        )
        return int(value.scalar_one())

    async def total(self) -> int:
        t = orm.ledger_entries
        value = await self.session.execute(select(func.coalesce(func.sum(t.c.amount_tiyn), 0)))
        return int(value.scalar_one())


class AcquirerEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, acquirer: str, event_id: str) -> bool:
        t = orm.acquirer_events
        row = await self.session.execute(
            select(t.c.event_id).where(t.c.acquirer == acquirer, t.c.event_id == event_id)
        )
        return row.first() is not None

    async def add(self, n: AcquirerNotification, now: datetime) -> None:
        await self.session.execute(
            insert(orm.acquirer_events).values(
                acquirer=n.acquirer,
                event_id=n.event_id,
                type=n.type,
                payment_id=n.payment_id,
                refund_id=n.refund_id,
                amount_tiyn=n.amount_tiyn,
                occurred_at=n.occurred_at,
                processed_at=now,
            )
        )

    async def log(
        self,
        *,
        now: datetime,
        acquirer: str,
        event_id: str | None,
        type_: str | None,
        outcome: str,
        status_code: int,
        detail: str,
        body_sha256: str,
    ) -> None:
        await self.session.execute(
            insert(orm.acquirer_callback_log).values(
                received_at=now,
                acquirer=acquirer[:30],
                event_id=(event_id or None) and event_id[:100],
                type=(type_ or None) and type_[:30],
                outcome=outcome,
                status_code=status_code,
                detail=detail[:2000],
                body_sha256=body_sha256,
            )
        )
