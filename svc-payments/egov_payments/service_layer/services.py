"""Use cases of svc-payments. Each takes a unit-of-work factory and commits once per change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol, TypeVar

import structlog
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from egov_payments.domain import ledger
from egov_payments.domain.acquirer import Acquirer, AcquirerNotification, CallbackRejected
from egov_payments.domain.allowances import AllowanceTable, allowance_table
from egov_payments.domain.model import Invoice, Payment, Payout, Refund
from egov_payments.service_layer.unit_of_work import PaymentsUnitOfWork
from meshkit.auth.assertion import RoutedCall
from meshkit.clock import BusinessClock
from meshkit.contracts.payments import (
    AllowanceClaim,
    InvoiceCancelled,
    InvoiceCreate,
    InvoiceExpired,
    InvoiceIssued,
    InvoicePaid,
    PayoutCompleted,
    PayoutCreate,
    RefundCompleted,
    RefundCreate,
)
from meshkit.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from meshkit.events import EventData
from meshkit.idempotency import Recorded
from meshkit.ids import is_valid_iin

log = structlog.get_logger("payments")

UowFactory = Callable[[], PaymentsUnitOfWork]
R = TypeVar("R")


@dataclass(frozen=True)
class Policy:
    """Who may do what beyond the obvious owner checks (from settings)."""

    issuers_for_any_agency: frozenset[str] = frozenset()
    operators: frozenset[str] = frozenset({"operator"})


# -- helpers ----------------------------------------------------------------------------------
def request_hash(body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def post(uow: PaymentsUnitOfWork, posting: ledger.Posting) -> None:
    """Lock the balance rows the posting touches, refuse an overdraft, then append it.

    Only accounts that must stay non-negative have balance rows; they are locked in name
    order before any is written, so two postings between the same accounts in opposite
    directions (a refund reservation and a refund reversal) cannot deadlock.
    """
    guarded = [a for a in posting.accounts if ledger.must_stay_non_negative(a)]
    balances = await uow.ledger.lock_balances(guarded, posting.created_at)
    posting.check_funds(balances)
    await uow.ledger.append(posting)


async def _idempotent(
    uows: UowFactory,
    *,
    scope: str,
    key: str | None,
    body_hash: str,
    create: Callable[[PaymentsUnitOfWork], Awaitable[tuple[str, R]]],
    load: Callable[[PaymentsUnitOfWork, str], Awaitable[R]],
    now: datetime,
) -> tuple[R, bool]:
    """Run ``create`` once per (scope, key): the same key and body returns the first result
    (``replayed=True``); the same key with another body is a conflict."""

    async def replay(uow: PaymentsUnitOfWork, found: Recorded) -> R:
        return await load(uow, found.replay(body_hash, key=str(key)))

    try:
        async with uows() as uow:
            if key is not None:
                found = await uow.idempotency.get(scope, key)
                if found is not None:
                    return await replay(uow, found), True
            resource_id, result = await create(uow)
            if key is not None:
                await uow.idempotency.add(scope, key, body_hash, resource_id, now)
            await uow.commit()
            return result, False
    except IntegrityError:
        if key is None:
            raise
        # a concurrent request with the same key won the race: answer with its result
        async with uows() as uow:
            found = await uow.idempotency.get(scope, key)
            if found is None:
                raise
            return await replay(uow, found), True


def _issued_event(inv: Invoice) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=inv.id,
        payer=inv.payer,
        amount_tiyn=inv.amount_tiyn,
        kbk=inv.kbk,
        beneficiary_agency=inv.beneficiary_agency,
        reference=inv.reference,
        due_date=inv.due_date,
    )


def _emit(uow: PaymentsUnitOfWork, inv: Invoice, data: EventData) -> None:
    """An event of the invoice: correlated with the process it was issued for, whatever
    request or event causes it now (the unit of work's causation: a bank's callback, an
    agency's call, a sweep); an invoice older than the column: the one at hand."""
    uow.emit(data, subject=inv.id, correlation_id=inv.correlation_id)


async def _load_invoice(uow: PaymentsUnitOfWork, invoice_id: str, *, lock: bool = False) -> Invoice:
    inv = await uow.invoices.get(invoice_id, for_update=lock)
    if inv is None:
        raise NotFound(f"there is no invoice {invoice_id}")
    return inv


def _require_agency(call: RoutedCall) -> str:
    if call.is_citizen:
        raise PermissionDenied("only an agency may do this")
    return call.client


# -- invoices ---------------------------------------------------------------------------------
async def add_invoice(
    uow: PaymentsUnitOfWork, data: InvoiceCreate, clock: BusinessClock
) -> Invoice:
    """Issue an invoice inside an open unit of work (the caller commits)."""
    inv = Invoice.issue(
        payer=data.payer,
        amount_tiyn=data.amount_tiyn,
        purpose=data.purpose,
        kbk=data.kbk,
        beneficiary_agency=data.beneficiary_agency,
        due_date=data.due_date,
        reference=data.reference,
        now=clock.now(),
        today=clock.today(),
        payer_representative_iin=data.payer_representative_iin,
        # the process at hand (the application a step or a handled event names, or else the
        # request): the invoice's later events, in other requests, carry it on
        correlation_id=uow.correlation_id,
    )
    await uow.invoices.add(inv)
    _emit(uow, inv, _issued_event(inv))
    return inv


async def create_invoice(
    uows: UowFactory,
    data: InvoiceCreate,
    *,
    call: RoutedCall,
    idempotency_key: str,
    clock: BusinessClock,
    policy: Policy,
) -> tuple[Invoice, bool]:
    client = _require_agency(call)
    if data.beneficiary_agency != client and client not in policy.issuers_for_any_agency:
        raise PermissionDenied(
            f"{client} may only issue invoices to its own budget (beneficiary_agency={client})"
        )

    async def create(uow: PaymentsUnitOfWork) -> tuple[str, Invoice]:
        inv = await add_invoice(uow, data, clock)
        return inv.id, inv

    return await _idempotent(
        uows,
        scope=f"{client}:POST /invoices",
        key=idempotency_key,
        body_hash=request_hash(data),
        create=create,
        load=_load_invoice,
        now=clock.now(),
    )


def may_read_invoice(inv: Invoice, call: RoutedCall, policy: Policy) -> bool:
    if call.is_citizen:
        return inv.is_payer(call.user)
    return call.client == inv.beneficiary_agency or call.client in policy.operators


async def get_invoice(
    uows: UowFactory, invoice_id: str, *, call: RoutedCall, policy: Policy
) -> Invoice:
    async with uows() as uow:
        inv = await _load_invoice(uow, invoice_id)
    if not may_read_invoice(inv, call, policy):
        raise PermissionDenied("this invoice is neither yours nor addressed to your agency")
    return inv


async def list_invoices(
    uows: UowFactory, *, payer: str | None, call: RoutedCall, policy: Policy
) -> list[Invoice]:
    """A citizen: their own invoices, or those of ``payer`` that the citizen pays (e.g. the
    director of a new LLP, for the duty on the LLP's BIN) — never anything else of ``payer``'s.
    Asking for another person's invoices with nothing of the citizen's among them is a 403;
    for a BIN it is an empty list (the duty may not be issued yet)."""
    async with uows() as uow:
        if call.is_citizen:
            if call.user is None:
                raise PermissionDenied("a citizen call names the citizen")
            if payer is None or payer == call.user:
                return await uow.invoices.for_payer(call.user)
            theirs = [i for i in await uow.invoices.for_payer(payer) if i.is_payer(call.user)]
            if not theirs and is_valid_iin(payer):
                raise PermissionDenied(
                    "a citizen sees only their own invoices or those they pay for"
                )
            return theirs
        if call.client in policy.operators:
            if payer is None:
                raise RuleViolation("name the payer", errors={"payer": "required"})
            return await uow.invoices.for_payer(payer)
        return await uow.invoices.for_beneficiary(call.client, payer=payer)


async def cancel_invoice(
    uows: UowFactory, invoice_id: str, *, reason: str, call: RoutedCall, clock: BusinessClock
) -> Invoice:
    agency = _require_agency(call)
    async with uows() as uow:
        inv = await _load_invoice(uow, invoice_id, lock=True)
        inv.require_beneficiary(agency)
        inv.cancel(clock.now())
        await uow.invoices.save(inv)
        _emit(uow, inv, InvoiceCancelled(invoice_id=inv.id, reference=inv.reference, reason=reason))
        await uow.commit()
    return inv


async def expire_overdue(
    uows: UowFactory, *, clock: BusinessClock, today: date | None = None
) -> int:
    """Expire every issued invoice whose due date has passed; one transaction each."""
    day = today or clock.today()
    async with uows() as uow:
        ids = await uow.invoices.overdue_ids(day)
    expired = 0
    for invoice_id in ids:
        async with uows() as uow:
            inv = await _load_invoice(uow, invoice_id, lock=True)
            if not inv.is_overdue(day):
                continue  # paid or cancelled meanwhile
            inv.expire(clock.now(), day)
            await uow.invoices.save(inv)
            _emit(uow, inv, InvoiceExpired(invoice_id=inv.id, reference=inv.reference))
            await uow.commit()
            expired += 1
    return expired


# -- payments -----------------------------------------------------------------------------------
async def start_payment(
    uows: UowFactory, invoice_id: str, *, call: RoutedCall, acquirer: Acquirer, clock: BusinessClock
) -> Payment:
    """The payer opens a payment session at the acquirer (one open session per invoice)."""
    if not call.is_citizen:
        raise PermissionDenied("only the payer pays an invoice")
    async with uows() as uow:
        inv = await _load_invoice(uow, invoice_id)
        if not inv.is_payer(call.user):
            raise PermissionDenied("this invoice is not yours to pay")
        inv.require_payable(clock.today())
        open_ = [p for p in await uow.payments.for_invoice(inv.id) if p.status == "pending"]
        if open_:
            return open_[0]
    payment = Payment.start(inv, acquirer=acquirer.code, now=clock.now())
    # ask the bank before writing: a session the bank never opened must not be stored
    session = await acquirer.start_payment(
        payment_id=payment.id, amount_tiyn=payment.amount_tiyn, description=inv.purpose
    )
    payment.acquirer_payment_id = session.acquirer_payment_id
    payment.payment_url = session.payment_url
    async with uows() as uow:
        inv = await _load_invoice(uow, invoice_id, lock=True)
        inv.require_payable(clock.today())
        open_ = [p for p in await uow.payments.for_invoice(inv.id) if p.status == "pending"]
        if open_:  # a concurrent request opened one first
            return open_[0]
        await uow.payments.add(payment)
        await uow.commit()
    return payment


Outcome = Literal["processed", "already_processed"]


async def apply_notification(
    uows: UowFactory, n: AcquirerNotification, *, clock: BusinessClock
) -> Outcome:
    """Apply one verified acquirer fact exactly once.

    The invoice row is locked first (every change to an invoice, its payments and refunds
    goes through that lock), then the acquirer's event id is checked: 50 concurrent copies
    of one callback serialise on the lock and all but the first find the event recorded.
    """
    postings: list[ledger.Posting] = []
    async with uows() as uow:
        found = await uow.payments.get(n.payment_id)
        if found is None:
            raise RuleViolation(f"no payment {n.payment_id} was ever started here")
        if found.acquirer != n.acquirer:
            raise RuleViolation(f"payment {n.payment_id} is not at acquirer {n.acquirer}")
        inv = await _load_invoice(uow, found.invoice_id, lock=True)
        if await uow.acquirer_events.seen(n.acquirer, n.event_id):
            return "already_processed"
        if n.currency != inv.currency:
            # a signed fact in another currency is not a fact about this invoice: 10 000 USD
            # never pays 10 000 tiyn of KZT (issue 16)
            raise RuleViolation(
                f"the acquirer reports {n.currency}; invoice {inv.id} is in {inv.currency}",
                errors={"currency": f"must be {inv.currency}, the invoice's currency"},
            )
        payment = await uow.payments.get(n.payment_id, for_update=True)
        assert payment is not None
        day = clock.business_date(n.occurred_at)
        now = clock.now()
        if n.type == "payment.captured":
            if payment.status == "captured":
                return "already_processed"  # the same fact under another event id
            if payment.status == "declined":
                raise Conflict(f"payment {payment.id} was declined; a capture contradicts it")
            payment.capture(n.amount_tiyn, n.occurred_at)
            inv.mark_paid(n.amount_tiyn, n.occurred_at, paid_on=day)
            postings.append(
                ledger.transfer(
                    "payment",
                    payment.id,
                    source=ledger.party(inv.payer),
                    destination=ledger.ACQUIRER_CLEARING,
                    amount_tiyn=n.amount_tiyn,
                    at=now,
                    business_date=day,
                    description=f"{n.acquirer} captured {n.event_id}",
                    agency=inv.beneficiary_agency,
                    kbk=inv.kbk,
                    invoice_id=inv.id,
                ),
            )
            postings.append(
                ledger.transfer(
                    "settlement",
                    payment.id,
                    source=ledger.ACQUIRER_CLEARING,
                    destination=ledger.agency_budget(inv.beneficiary_agency, inv.kbk),
                    amount_tiyn=n.amount_tiyn,
                    at=now,
                    business_date=day,
                    description=inv.purpose,
                    agency=inv.beneficiary_agency,
                    kbk=inv.kbk,
                    invoice_id=inv.id,
                ),
            )
            _emit(
                uow,
                inv,
                InvoicePaid(
                    invoice_id=inv.id,
                    payer=inv.payer,
                    amount_tiyn=inv.paid_tiyn,
                    beneficiary_agency=inv.beneficiary_agency,
                    reference=inv.reference,
                    paid_at=n.occurred_at,
                ),
            )
        elif n.type == "payment.declined":
            if payment.status == "declined":
                return "already_processed"
            payment.decline(n.occurred_at)  # Conflict when it was captured
        else:
            refund = await uow.refunds.get(n.refund_id or "", for_update=True)
            if payment.status != "captured":
                raise Conflict(
                    f"a refund of payment {payment.id} arrived before its capture (it is "
                    f"{payment.status})"
                )
            if refund is None:
                raise Conflict(f"refund {n.refund_id} is not known (yet)")
            if refund.payment_id != payment.id:
                raise RuleViolation(f"refund {refund.id} belongs to another payment")
            if n.type == "refund.completed":
                if refund.status == "completed":
                    return "already_processed"
                refund.complete(inv, n.amount_tiyn, n.occurred_at)
                postings.append(
                    ledger.transfer(
                        "refund",
                        refund.id,
                        source=ledger.REFUNDS,
                        destination=ledger.party(inv.payer),
                        amount_tiyn=refund.amount_tiyn,
                        at=now,
                        business_date=day,
                        description=refund.reason,
                        agency=inv.beneficiary_agency,
                        kbk=inv.kbk,
                        invoice_id=inv.id,
                    ),
                )
                _emit(
                    uow,
                    inv,
                    RefundCompleted(
                        refund_id=refund.id,
                        invoice_id=inv.id,
                        amount_tiyn=refund.amount_tiyn,
                        reference=inv.reference,
                    ),
                )
            else:
                if refund.status == "failed":
                    return "already_processed"
                refund.fail(inv, n.occurred_at)
                postings.append(_refund_reversal(inv, refund, now, day))
            await uow.refunds.save(refund)
        await uow.payments.save(payment)
        await uow.invoices.save(inv)
        await uow.acquirer_events.add(n, now)
        for posting in postings:  # last: the budget row is locked only until the commit
            await post(uow, posting)
        await uow.commit()
    return "processed"


def _refund_reversal(inv: Invoice, refund: Refund, now: datetime, day: date) -> ledger.Posting:
    """The money reserved for a refund goes back to the budget (a new posting, not an edit)."""
    return ledger.transfer(
        "refund_reversal",
        refund.id,
        source=ledger.REFUNDS,
        destination=ledger.agency_budget(inv.beneficiary_agency, inv.kbk),
        amount_tiyn=refund.amount_tiyn,
        at=now,
        business_date=day,
        description=f"refund {refund.id} failed",
        agency=inv.beneficiary_agency,
        kbk=inv.kbk,
        invoice_id=inv.id,
    )


@dataclass(frozen=True)
class CallbackAnswer:
    status_code: int
    outcome: str
    detail: str
    event_id: str | None = None


async def receive_callback(
    uows: UowFactory,
    acquirers: Mapping[str, Acquirer],
    *,
    acquirer_code: str,
    headers: Mapping[str, str],
    body: bytes,
    clock: BusinessClock,
) -> CallbackAnswer:
    """Verify, apply and log one callback. Anything but a fresh, valid fact changes nothing."""
    now = clock.now()
    digest = hashlib.sha256(body).hexdigest()
    n: AcquirerNotification | None = None
    acquirer = acquirers.get(acquirer_code)
    try:
        if acquirer is None:
            raise CallbackRejected("bad_signature", f"unknown acquirer {acquirer_code!r}")
        n = acquirer.verify_callback(headers, body, now)
        outcome = await apply_notification(uows, n, clock=clock)
        answer = CallbackAnswer(
            200, outcome, "applied" if outcome == "processed" else "already processed", n.event_id
        )
    except CallbackRejected as exc:
        status = 422 if exc.reason == "malformed" else 401
        answer = CallbackAnswer(status, f"rejected_{exc.reason}", exc.detail)
    except Conflict as exc:
        answer = CallbackAnswer(409, "conflict", exc.detail, n.event_id if n else None)
    except (RuleViolation, NotFound) as exc:
        answer = CallbackAnswer(422, "refused", exc.detail, n.event_id if n else None)
    log_method = log.info if answer.status_code == 200 else log.warning
    log_method(
        "acquirer.callback",
        acquirer=acquirer_code,
        event_id=answer.event_id,
        outcome=answer.outcome,
        status=answer.status_code,
        detail=answer.detail[:300],
    )
    async with uows() as uow:
        await uow.acquirer_events.log(
            now=now,
            acquirer=acquirer_code,
            event_id=n.event_id if n else None,
            type_=n.type if n else None,
            outcome=answer.outcome,
            status_code=answer.status_code,
            detail=answer.detail,
            body_sha256=digest,
        )
        await uow.commit()
    return answer


# -- refunds ----------------------------------------------------------------------------------
async def request_refund(
    uows: UowFactory,
    invoice_id: str,
    data: RefundCreate,
    *,
    call: RoutedCall,
    acquirer_for: Callable[[str], Acquirer],
    clock: BusinessClock,
    idempotency_key: str | None = None,
) -> Refund:
    """Reserve the refund in the ledger (budget → refunds payable), then ask the acquirer;
    its callback completes (or fails) the refund."""
    agency = _require_agency(call)

    async def create(uow: PaymentsUnitOfWork) -> tuple[str, tuple[Refund, Payment]]:
        inv = await _load_invoice(uow, invoice_id, lock=True)
        inv.require_beneficiary(agency)
        captured = [p for p in await uow.payments.for_invoice(inv.id) if p.status == "captured"]
        if not captured:
            raise Conflict(f"invoice {inv.id} is {inv.status}; only a paid one is refunded")
        refund = Refund.request(
            inv, captured[0], amount_tiyn=data.amount_tiyn, reason=data.reason, now=clock.now()
        )
        await post(
            uow,
            ledger.transfer(
                "refund_reservation",
                refund.id,
                source=ledger.agency_budget(inv.beneficiary_agency, inv.kbk),
                destination=ledger.REFUNDS,
                amount_tiyn=refund.amount_tiyn,
                at=clock.now(),
                business_date=clock.today(),
                description=data.reason,
                agency=inv.beneficiary_agency,
                kbk=inv.kbk,
                invoice_id=inv.id,
            ),
        )
        await uow.refunds.add(refund)
        await uow.invoices.save(inv)
        return refund.id, (refund, captured[0])

    async def load(uow: PaymentsUnitOfWork, refund_id: str) -> tuple[Refund, Payment]:
        refund = await uow.refunds.get(refund_id)
        assert refund is not None
        payment = await uow.payments.get(refund.payment_id)
        assert payment is not None
        return refund, payment

    (refund, payment), replayed = await _idempotent(
        uows,
        scope=f"{agency}:POST /invoices/{invoice_id}/refunds",
        key=idempotency_key,
        body_hash=request_hash(data),
        create=create,
        load=load,
        now=clock.now(),
    )
    if not replayed and refund.status == "pending":
        await acquirer_for(payment.acquirer).request_refund(
            payment_id=payment.id,
            acquirer_payment_id=payment.acquirer_payment_id or "",
            refund_id=refund.id,
            amount_tiyn=refund.amount_tiyn,
        )
    return refund


async def get_refund(
    uows: UowFactory, invoice_id: str, refund_id: str, *, call: RoutedCall, policy: Policy
) -> Refund:
    async with uows() as uow:
        inv = await _load_invoice(uow, invoice_id)
        refund = await uow.refunds.get(refund_id)
    if refund is None or refund.invoice_id != inv.id:
        raise NotFound(f"invoice {invoice_id} has no refund {refund_id}")
    if not may_read_invoice(inv, call, policy):
        raise PermissionDenied("this invoice is neither yours nor addressed to your agency")
    return refund


# -- payouts and budgets ------------------------------------------------------------------------
async def _pay_out(uow: PaymentsUnitOfWork, payout: Payout, clock: BusinessClock) -> None:
    """Post the payout from its agency's budget line to the recipient, record it and its
    ``payout.completed`` event — one transaction (InsufficientFunds: nothing is written)."""
    await post(
        uow,
        ledger.transfer(
            "payout",
            payout.id,
            source=ledger.agency_budget(payout.agency, payout.kbk),
            destination=ledger.party(payout.recipient_iin),
            amount_tiyn=payout.amount_tiyn,
            at=payout.created_at,
            business_date=clock.business_date(payout.created_at),
            description=payout.purpose,
            agency=payout.agency,
            kbk=payout.kbk,
        ),
    )
    await uow.payouts.add(payout)
    uow.emit(
        PayoutCompleted(
            payout_id=payout.id,
            agency=payout.agency,
            recipient_iin=payout.recipient_iin,
            amount_tiyn=payout.amount_tiyn,
            reference=payout.reference,
            purpose=payout.purpose,
        ),
        subject=payout.id,
    )


async def create_payout(
    uows: UowFactory,
    data: PayoutCreate,
    *,
    call: RoutedCall,
    idempotency_key: str,
    clock: BusinessClock,
) -> tuple[Payout, bool]:
    agency = _require_agency(call)

    async def create(uow: PaymentsUnitOfWork) -> tuple[str, Payout]:
        payout = Payout.make(
            agency=agency,
            recipient_iin=data.recipient_iin,
            amount_tiyn=data.amount_tiyn,
            kbk=data.kbk,
            purpose=data.purpose,
            reference=data.reference,
            now=clock.now(),
        )
        # InsufficientFunds (422) before anything is written: no entries, no payout
        await _pay_out(uow, payout, clock)
        return payout.id, payout

    async def load(uow: PaymentsUnitOfWork, payout_id: str) -> Payout:
        payout = await uow.payouts.get(payout_id)
        assert payout is not None
        return payout

    return await _idempotent(
        uows,
        scope=f"{agency}:POST /payouts",
        key=idempotency_key,
        body_hash=request_hash(data),
        create=create,
        load=load,
        now=clock.now(),
    )


# -- state allowances claimed by citizens ---------------------------------------------------
@dataclass(frozen=True)
class ChildRecord:
    """What svc-identity holds about a child that the childbirth allowance depends on."""

    iin: str
    parents: frozenset[str]


class AllowanceFacts(Protocol):
    """The owners of the facts an allowance depends on (asked through the gateway, on behalf
    of the claimant). Both raise ``UpstreamUnavailable`` when the owner cannot answer."""

    async def child(self, iin: str, *, on_behalf_of: str) -> ChildRecord | None:
        """The person ``iin`` with their recorded parents (identity); None: no such person."""
        ...

    async def death_acts(self, iin: str, *, on_behalf_of: str) -> list[str]:
        """The act numbers of the registered deaths of ``iin`` (registry); [] when none."""
        ...

    async def death_declarants(self, iin: str, *, on_behalf_of: str) -> set[str]:
        """The citizens who declared the registered death of ``iin`` (registry)."""
        ...


NOT_YOUR_CHILD = "you can only claim the childbirth allowance for your own child"
NOT_FAMILY = (
    "you can only claim the funeral allowance for a death you declared, or of your parent or child"
)
_SUBJECT_WORD = {"childbirth": "this child", "funeral": "this deceased person"}


class AllowanceAlreadyPaid(Conflict):
    def __init__(self, kind: str, payout_id: str) -> None:
        super().__init__(
            f"the {kind} allowance for {_SUBJECT_WORD.get(kind, 'this person')} was already "
            f"paid (payout {payout_id})",
            code="allowance-already-paid",
        )
        self.payout_id = payout_id


async def check_allowance_eligibility(
    data: AllowanceClaim, *, claimant: str, facts: AllowanceFacts
) -> None:
    """Ask the owner of the fact; refuse (403/422) or let the claim through."""
    if data.kind == "childbirth":
        child = await facts.child(data.subject_iin, on_behalf_of=claimant)
        # an unknown IIN and a stranger's child get the same answer: nothing more is revealed
        if child is None or claimant not in child.parents:
            raise PermissionDenied(NOT_YOUR_CHILD, code="not-your-child")
        return
    if data.subject_iin == claimant:
        raise RuleViolation(
            "the funeral allowance is claimed for a deceased person, not for yourself",
            errors={"subject_iin": "is your own IIN"},
            code="self-claim",
        )
    if not await facts.death_acts(data.subject_iin, on_behalf_of=claimant):
        raise RuleViolation(
            f"no death of {data.subject_iin} is registered",
            errors={"subject_iin": "no registered death"},
            code="death-not-registered",
        )
    # paid to the family that buries: the citizen who declared the death, or a parent or child
    # of the deceased (identity) — never to a stranger who knows of a death
    if claimant in await facts.death_declarants(data.subject_iin, on_behalf_of=claimant):
        return
    deceased = await facts.child(data.subject_iin, on_behalf_of=claimant)
    own = await facts.child(claimant, on_behalf_of=claimant)
    if (deceased is not None and claimant in deceased.parents) or (
        own is not None and data.subject_iin in own.parents
    ):
        return
    raise PermissionDenied(NOT_FAMILY, code="not-family")


async def claim_allowance(
    uows: UowFactory,
    data: AllowanceClaim,
    *,
    call: RoutedCall,
    idempotency_key: str,
    clock: BusinessClock,
    facts: AllowanceFacts,
    table: AllowanceTable | None = None,
) -> tuple[Payout, bool]:
    """A citizen claims a state allowance for themself: the recipient is the caller, the
    amount and budget line come from the allowance table, eligibility from the fact's owner,
    and the database pays each (kind, subject) at most once."""
    if not call.is_citizen:
        raise PermissionDenied(
            "an allowance is claimed by the citizen it is paid to; agencies pay through "
            "POST /payouts",
            code="citizens-only",
        )
    if call.user is None:
        raise PermissionDenied("a citizen call names the citizen")
    claimant = call.user
    rules = table or allowance_table()
    rule = rules.rule(data.kind)
    scope = f"citizen:{claimant}:POST /allowances"
    async with uows() as uow:
        replay = await uow.idempotency.get(scope, idempotency_key)
    if replay is None:  # a replayed request was checked the first time
        await check_allowance_eligibility(data, claimant=claimant, facts=facts)

    async def create(uow: PaymentsUnitOfWork) -> tuple[str, Payout]:
        paid = await uow.payouts.allowance(data.kind, data.subject_iin)
        if paid is not None:
            raise AllowanceAlreadyPaid(data.kind, paid.id)
        agency = rules.payer_agency
        payout = Payout.make(
            agency=agency,
            recipient_iin=claimant,
            amount_tiyn=rules.amount_tiyn(data.kind, clock.today()),
            kbk=rule.kbk,
            purpose=rule.purpose,
            reference=data.reference or f"{data.kind}:{data.subject_iin}",
            now=clock.now(),
            allowance_kind=data.kind,
            subject_iin=data.subject_iin,
        )
        # InsufficientFunds (422) before anything is written: no entries, no payout
        # the unique (allowance_kind, subject_iin) constraint refuses a concurrent twin when
        # the payout is added or at the commit: an IntegrityError, answered below as the 409
        await _pay_out(uow, payout, clock)
        return payout.id, payout

    async def load(uow: PaymentsUnitOfWork, payout_id: str) -> Payout:
        payout = await uow.payouts.get(payout_id)
        assert payout is not None
        return payout

    try:
        return await _idempotent(
            uows,
            scope=scope,
            key=idempotency_key,
            body_hash=request_hash(data),
            create=create,
            load=load,
            now=clock.now(),
        )
    except IntegrityError:
        async with uows() as uow:
            paid = await uow.payouts.allowance(data.kind, data.subject_iin)
        if paid is None:
            raise
        raise AllowanceAlreadyPaid(data.kind, paid.id) from None


async def get_payout(
    uows: UowFactory, payout_id: str, *, call: RoutedCall, policy: Policy
) -> Payout:
    async with uows() as uow:
        payout = await uow.payouts.get(payout_id)
    if payout is None:
        raise NotFound(f"there is no payout {payout_id}")
    allowed = (
        payout.recipient_iin == call.user
        if call.is_citizen
        else call.client == payout.agency or call.client in policy.operators
    )
    if not allowed:
        raise PermissionDenied("this payout is neither yours nor your agency's")
    return payout


async def allocate_budget(
    uows: UowFactory,
    *,
    agency: str,
    kbk: str,
    amount_tiyn: int,
    reference: str,
    clock: BusinessClock,
) -> bool:
    """Fund an agency's budget line from the treasury once per reference (True if posted)."""
    try:
        async with uows() as uow:
            if await uow.ledger.exists("budget_allocation", reference):
                return False
            await post(
                uow,
                ledger.transfer(
                    "budget_allocation",
                    reference,
                    source=ledger.TREASURY,
                    destination=ledger.agency_budget(agency, kbk),
                    amount_tiyn=amount_tiyn,
                    at=clock.now(),
                    business_date=clock.today(),
                    description=f"budget allocation {reference}",
                    agency=agency,
                    kbk=kbk,
                ),
            )
            await uow.commit()
    except IntegrityError:
        return False  # another instance allocated it at the same moment
    return True


def due_in(clock: BusinessClock, days: int) -> date:
    return clock.today() + timedelta(days=days)
