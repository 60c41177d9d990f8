"""Use cases of svc-notary.

Calls to other agencies never run inside a database transaction: an act is read, the
gateway is asked, then the act is read again and changed (its version guards against a
concurrent change in between). Every change others must hear about is emitted into the
outbox in the same transaction.
"""

from __future__ import annotations

import asyncio
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog

from egov_notary.domain.acts import (
    APPLICANT_ROLES,
    ActStatus,
    ActWasExecuted,
    ActWasRegistered,
    ActWasRejected,
    ActWasRevoked,
    DomainEvent,
    NotarialAct,
    Signature,
    SignatureRole,
    format_act_number,
    new_verification_code,
    notarial_fee_tiyn,
    signed_payload_mismatch,
)
from egov_notary.domain.checks import PersonFact, PropertyFact, evaluate_checks
from egov_notary.domain.notaries import Notary, NotaryStatus
from egov_notary.domain.terms import PropertySaleTerms, ShareHolding, Terms
from egov_notary.service_layer.ports import Agencies
from egov_notary.service_layer.unit_of_work import NotaryUnitOfWork
from meshkit import context
from meshkit.contracts.common import Holder, Share
from meshkit.contracts.notary import ActExecuted, ActRegistered, ActRejected, ActRevoked
from meshkit.contracts.payments import InvoiceCreate, InvoicePaid
from meshkit.contracts.registry import PropertyTransferred, PropertyTransferRejected
from meshkit.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RuleViolation,
    UpstreamUnavailable,
)
from meshkit.events import EventData
from meshkit.ids import is_valid_iin

log = structlog.get_logger("egov_notary")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who asks: an agency (``client``) or a citizen, and on whose behalf (``user``)."""

    client: str
    user: str | None

    @property
    def is_citizen(self) -> bool:
        return self.client == "citizen"

    @property
    def label(self) -> str:
        if self.is_citizen:
            return f"citizen:{self.user}"
        return f"{self.client}" + (f" for {self.user}" if self.user else "")


@dataclass(frozen=True)
class FeePolicy:
    mrp_tiyn: int
    kbk: str
    due_days: int


# -- notaries ------------------------------------------------------------------------------
async def register_notary(
    uow: NotaryUnitOfWork,
    *,
    iin: str,
    full_name: str,
    license_number: str,
    region: str,
    actor: Actor,
    registrars: list[str],
) -> Notary:
    if actor.is_citizen or actor.client not in registrars:
        raise PermissionDenied(
            f"only {', '.join(registrars)} may register notaries; {actor.label} may not"
        )
    now = utcnow()
    async with uow:
        if await uow.notaries.get(iin):
            raise Conflict(f"a notary with IIN {iin} is already registered", code="notary_exists")
        if await uow.notaries.by_license(license_number):
            raise Conflict(
                f"license {license_number} belongs to another notary", code="license_taken"
            )
        notary = Notary(
            iin=iin,
            full_name=full_name,
            license_number=license_number,
            region=region,
            status="active",
            registered_at=now,
            updated_at=now,
        )
        await uow.notaries.add(notary)
        await uow.commit()
    log.info("notary.registered", iin=iin, license=license_number, by=actor.label)
    return notary


async def change_notary_status(
    uow: NotaryUnitOfWork,
    iin: str,
    *,
    status: NotaryStatus,
    reason: str | None,
    actor: Actor,
    registrars: list[str],
) -> Notary:
    if actor.is_citizen or actor.client not in registrars:
        raise PermissionDenied(f"only {', '.join(registrars)} may change a notary's status")
    async with uow:
        notary = await uow.notaries.get(iin)
        if notary is None:
            raise NotFound(f"no notary with IIN {iin}")
        if notary.change_status(status, reason, utcnow()):
            await uow.notaries.save(notary)
            await uow.commit()
    return notary


async def list_notaries(
    uow: NotaryUnitOfWork, *, region: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[Notary], int]:
    async with uow:
        return await uow.notaries.list(region=region, status=status, limit=limit, offset=offset)


async def get_notary(uow: NotaryUnitOfWork, iin: str) -> Notary:
    async with uow:
        notary = await uow.notaries.get(iin)
    if notary is None:
        raise NotFound(f"no notary with IIN {iin}")
    return notary


# -- acts: drafting and checks -------------------------------------------------------------
async def draft_act(
    uow: NotaryUnitOfWork,
    agencies: Agencies,
    *,
    terms: Terms,
    notary_iin: str | None,
    actor: Actor,
    fees: FeePolicy,
) -> tuple[NotarialAct, Notary]:
    """A notary (citizen caller, in their own name), a citizen applying to a notary (a party in
    the applicant's role: see :func:`require_applicant`) or an agency on a notary's behalf
    drafts an act; the checks run at once (if an agency is unreachable the act stays a draft
    and can be re-checked)."""
    in_own_name = actor.is_citizen and notary_iin in (None, actor.user)
    if actor.is_citizen:
        if in_own_name:
            notary_iin = actor.user
        else:
            require_applicant(terms, actor)
    if notary_iin is None:
        raise RuleViolation(
            "name the notary who performs the act", errors={"notary_iin": "required"}
        )
    act_id = str(uuid.uuid4())
    async with uow:
        notary = await uow.notaries.get(notary_iin)
        if notary is None:
            if in_own_name:
                if _is_applicant(terms, actor):
                    raise RuleViolation(
                        "name the notary who performs the act (you are not a notary)",
                        errors={"notary_iin": "required"},
                    )
                raise PermissionDenied(
                    f"{notary_iin} is not a licensed notary: only notaries draft notarial acts"
                )
            raise RuleViolation(
                f"{notary_iin} is not a licensed notary", errors={"notary_iin": "not a notary"}
            )
        act = NotarialAct.draft(
            act_id=act_id,
            notary=notary,
            terms=terms,
            fee_tiyn=notarial_fee_tiyn(terms, fees.mrp_tiyn),
            actor=actor.label,
            now=utcnow(),
            # the process at hand (the application a step names, or else this request)
            correlation_id=uow.correlation_id,
        )
        await uow.acts.add(act)
        await uow.commit()
    try:
        act = await _check(uow, agencies, act_id, actor=actor, fees=fees)
    except UpstreamUnavailable as exc:
        log.warning("act.checks_deferred", act_id=act_id, error=exc.detail)
    return act, notary


#: the roles in which a citizen who is not the notary may apply for an act of each kind:
#: :data:`egov_notary.domain.acts.APPLICANT_ROLES`
NOT_AN_APPLICANT: dict[str, str] = {
    "power_of_attorney": "you can apply for a power of attorney only as its principal",
    "property_sale": "you can apply for a property sale only as a buyer or a seller",
    "copy_certification": "you can apply for a certified copy only of your own document",
}


def _is_applicant(terms: Terms, actor: Actor) -> bool:
    roles = APPLICANT_ROLES[terms.kind]
    return any(p.iin == actor.user and p.role in roles for p in terms.parties)


def require_applicant(terms: Terms, actor: Actor) -> None:
    """A citizen who applies to a notary (rather than drafting as the notary) is bound to the
    act: the principal of a power of attorney, a buyer or seller of a sale, the applicant of a
    certified copy — never somebody else's act in somebody else's name."""
    if actor.is_citizen and not _is_applicant(terms, actor):
        raise PermissionDenied(NOT_AN_APPLICANT[terms.kind])


async def owners_as_sellers(
    agencies: Agencies, cadastral_number: str, *, actor: Actor
) -> tuple[ShareHolding, ...]:
    """A sale drafted without sellers sells the whole object: its current owners, with their
    shares, as the real estate register (the registry, through the gateway) holds them."""
    prop = await agencies.property(cadastral_number, on_behalf_of=actor.user)
    if prop is None:
        raise RuleViolation(
            f"property {cadastral_number} is not in the real estate register",
            errors={"cadastral_number": "not in the real estate register"},
        )
    entities = [holder for holder in prop.owners if not is_valid_iin(holder)]
    if entities:
        raise RuleViolation(
            f"property {cadastral_number} is owned by {', '.join(entities)}, not only by "
            "individuals: name the sellers",
            errors={"sellers": "required: an owner is not an individual"},
        )
    return tuple(ShareHolding(holder, share) for holder, share in prop.owners.items())


async def run_checks(
    uow: NotaryUnitOfWork, agencies: Agencies, act_id: str, *, actor: Actor, fees: FeePolicy
) -> NotarialAct:
    """Ask identity and the registry (through the gateway) whether the act may proceed; a
    failed check blocks it with the reason. Passed → the fee invoice is issued in payments.
    Run again on request: the act's notary, or an agency."""
    async with uow:
        _ensure_notary_side(await _act(uow, act_id), actor)
    return await _check(uow, agencies, act_id, actor=actor, fees=fees)


async def _check(
    uow: NotaryUnitOfWork, agencies: Agencies, act_id: str, *, actor: Actor, fees: FeePolicy
) -> NotarialAct:
    async with uow:
        act = await _act(uow, act_id)
        notary = await uow.notaries.get(act.notary_iin)
        assert notary is not None
        notary.ensure_may_notarize()
    if act.needs_checks:
        iins = list(dict.fromkeys(p.iin for p in act.parties))
        sale = act.terms if isinstance(act.terms, PropertySaleTerms) else None
        # the lookups are independent: ask them all at once
        people, prop = await asyncio.gather(
            asyncio.gather(*(agencies.person(iin, on_behalf_of=actor.user) for iin in iins)),
            agencies.property(sale.cadastral_number, on_behalf_of=actor.user)
            if sale
            else _no_property(),
        )
        persons: dict[str, PersonFact | None] = dict(zip(iins, people, strict=True))
        outcome = evaluate_checks(act.terms, persons, prop)
        async with uow:
            act = await _act(uow, act_id)
            act.record_checks(outcome, actor.label, utcnow())
            await uow.acts.save(act)
            await uow.commit()
        log.info("act.checked", act_id=act_id, passed=outcome.passed, reason=outcome.reason)
    if act.needs_invoice:
        act = await _issue_invoice(uow, agencies, act, fees)
    return act


async def _issue_invoice(
    uow: NotaryUnitOfWork, agencies: Agencies, act: NotarialAct, fees: FeePolicy
) -> NotarialAct:
    today = utcnow().date()
    invoice = InvoiceCreate(
        payer=act.terms.payer,
        amount_tiyn=act.fee_tiyn,
        purpose=f"State duty: notarial act ({act.kind.replace('_', ' ')}) {act.id}",
        kbk=fees.kbk,
        beneficiary_agency="notary",
        due_date=today + timedelta(days=fees.due_days),
        reference=act.id,
    )
    try:
        # Idempotency-Key = act id: asking again after a lost answer yields the same invoice;
        # issued for the act's process, also when the checks are run again later
        with context.correlated(act.correlation_id):
            invoice_id = await agencies.issue_invoice(invoice, idempotency_key=act.id)
    except UpstreamUnavailable as exc:
        log.warning("act.invoice_deferred", act_id=act.id, error=exc.detail)
        return act
    async with uow:
        act = await _act(uow, act.id)
        act.attach_invoice(invoice_id, "payments", utcnow())
        await uow.acts.save(act)
        await uow.commit()
    if act.status == ActStatus.REVOKED:
        # withdrawn while the invoice was being issued: the fee is not owed
        act = await _cancel_late_invoice(uow, agencies, act, invoice_id)
    return act


async def _cancel_late_invoice(
    uow: NotaryUnitOfWork, agencies: Agencies, act: NotarialAct, invoice_id: str
) -> NotarialAct:
    try:
        status = await agencies.cancel_invoice(
            invoice_id,
            reason=f"notarial act {act.id} withdrawn: {act.status_reason or 'withdrawn'}"[:300],
            on_behalf_of=None,
        )
    except UpstreamUnavailable as exc:
        log.warning("act.late_invoice_not_cancelled", act_id=act.id, error=exc.detail)
        return act
    async with uow:
        act = await _act(uow, act.id)
        act.record_invoice_cancellation(invoice_id, status, "payments", utcnow())
        await uow.acts.save(act)
        await uow.commit()
    return act


# -- acts: reading -------------------------------------------------------------------------
async def get_act(
    uow: NotaryUnitOfWork, id_or_number: str, *, actor: Actor
) -> tuple[NotarialAct, Notary]:
    async with uow:
        act = (
            await uow.acts.get_by_number(id_or_number)
            if id_or_number.startswith("N-")
            else await uow.acts.get(id_or_number)
        )
        if act is None:
            raise NotFound(f"no notarial act {id_or_number}")
        if actor.is_citizen and not act.may_be_seen_by(actor.user):
            # the same answer as for an unknown act: a citizen learns nothing of others' acts
            raise NotFound(f"no notarial act {id_or_number}")
        notary = await uow.notaries.get(act.notary_iin)
        assert notary is not None
    return act, notary


async def acts_of(uow: NotaryUnitOfWork, iin: str, *, actor: Actor) -> list[NotarialAct]:
    if actor.is_citizen and actor.user != iin:
        raise PermissionDenied("a citizen sees their own acts only")
    async with uow:
        return await uow.acts.for_person(iin)


# -- acts: signatures ----------------------------------------------------------------------
async def sign_as_party(
    uow: NotaryUnitOfWork, agencies: Agencies, act_id: str, *, jws: str, actor: Actor
) -> NotarialAct:
    async with uow:
        act = await _act(uow, act_id)
        if actor.is_citizen and not act.is_party(actor.user):
            raise PermissionDenied("only a party of the act signs it as a party")
        act.ensure_party_may_sign()
    sig = await _verified_signature(uow, agencies, act, jws, role="party", actor=actor)
    if actor.is_citizen and sig.signer_iin != actor.user:
        raise PermissionDenied(
            f"the signature is by {sig.signer_iin}; a citizen signs with their own certificate"
        )
    async with uow:
        act = await _act(uow, act_id)
        now = utcnow()
        if act.add_party_signature(sig, now):
            await _register_if_ready(uow, act, now)
            await uow.acts.save(act)
            _publish(uow, act)
            await uow.commit()
    return act


async def sign_as_notary(
    uow: NotaryUnitOfWork, agencies: Agencies, act_id: str, *, jws: str, actor: Actor
) -> NotarialAct:
    async with uow:
        act = await _act(uow, act_id)
        _ensure_notary_side(act, actor)
        act.ensure_notary_may_sign()
        notary = await uow.notaries.get(act.notary_iin)
        assert notary is not None
        notary.ensure_may_notarize()
    sig = await _verified_signature(uow, agencies, act, jws, role="notary", actor=actor)
    async with uow:
        act = await _act(uow, act_id)
        notary = await uow.notaries.get(act.notary_iin)
        assert notary is not None
        now = utcnow()
        if act.add_notary_signature(sig, notary, now):
            await _register_if_ready(uow, act, now)
            await uow.acts.save(act)
            _publish(uow, act)
            await uow.commit()
    return act


async def _verified_signature(
    uow: NotaryUnitOfWork,
    agencies: Agencies,
    act: NotarialAct,
    jws: str,
    *,
    role: SignatureRole,
    actor: Actor,
) -> Signature:
    """Verify a JWS with the national CA (identity) and check it covers exactly this act."""
    verification = await agencies.verify_signature(jws, on_behalf_of=actor.user)
    problem: str | None = None
    if not verification.valid:
        problem = (
            f"the national CA does not accept the signature: {verification.reason or 'invalid'}"
        )
    elif not verification.signer:
        problem = "the signing certificate names nobody"
    elif verification.payload is None:
        problem = "the signed payload is unreadable"
    else:
        problem = signed_payload_mismatch(verification.payload, act.content, act.content_sha256)
    if problem:
        # the refusal is part of the act's history (who tried, when, why), then reported
        async with uow:
            current = await _act(uow, act.id)
            current.record_refused_signature(
                role=role,
                signer=verification.signer,
                reason=problem,
                actor=actor.label,
                now=utcnow(),
            )
            await uow.acts.save(current)
            await uow.commit()
        raise RuleViolation(problem, errors={"jws": problem}, code="invalid_signature")
    assert verification.signer is not None
    return Signature(
        signer_iin=verification.signer,
        role=role,
        jws=jws,
        content_sha256=act.content_sha256,
        signed_at=verification.signed_at,
        certificate_serial=verification.certificate_serial,
        accepted_at=utcnow(),
    )


# -- acts: registration, revocation ----------------------------------------------------------
async def register_act(uow: NotaryUnitOfWork, act_id: str, *, actor: Actor) -> NotarialAct:
    """Register explicitly; refuses with every reason the act is not registrable yet."""
    async with uow:
        act = await _act(uow, act_id)
        _ensure_notary_side(act, actor)
        notary = await uow.notaries.get(act.notary_iin)
        assert notary is not None
        blockers = act.registration_blockers(notary)
        if blockers:
            raise RuleViolation(
                "the act cannot be registered: " + "; ".join(blockers), code="not_registrable"
            )
        now = utcnow()
        seq = await uow.acts.next_number_sequence(now.year)
        act.register(
            number=format_act_number(now.year, seq),
            code=new_verification_code(),
            notary=notary,
            now=now,
        )
        await uow.acts.save(act)
        _publish(uow, act)
        await uow.commit()
    return act


async def _register_if_ready(uow: NotaryUnitOfWork, act: NotarialAct, now: datetime) -> None:
    if not act.ready_to_register:
        return
    notary = await uow.notaries.get(act.notary_iin)
    if notary is None or not notary.active:
        return  # stays signed; registration waits for the notary's license
    seq = await uow.acts.next_number_sequence(now.year)
    act.register(
        number=format_act_number(now.year, seq),
        code=new_verification_code(),
        notary=notary,
        now=now,
    )
    log.info("act.registered", act_id=act.id, number=act.number)


async def revoke_act(
    uow: NotaryUnitOfWork, agencies: Agencies, act_id: str, *, reason: str, actor: Actor
) -> NotarialAct:
    """Revoke or withdraw an act (who may: :meth:`NotarialAct.ensure_may_revoke`; a citizen
    who is neither its notary nor a party learns nothing of it: the answer for an unknown
    act). An unpaid fee invoice is cancelled in payments first — payments unreachable → 503
    and nothing changed, so the caller (the single window's compensation) retries; an invoice
    paid meanwhile stays paid (a refund is the notary's decision) and the history says so."""
    by_agency = not actor.is_citizen
    async with uow:
        act = await _act(uow, act_id)
        if actor.is_citizen and not act.may_be_seen_by(actor.user):
            raise NotFound(f"no notarial act {act_id}")
        act.ensure_may_revoke(by_iin=actor.user, by_agency=by_agency)
        invoice_id = act.open_invoice
    invoice_status = None
    if invoice_id is not None:
        invoice_status = await agencies.cancel_invoice(
            invoice_id,
            reason=f"notarial act {act_id} withdrawn: {reason}"[:300],
            on_behalf_of=actor.user,
        )
    async with uow:
        act = await _act(uow, act_id)
        now = utcnow()
        act.revoke(
            by_iin=actor.user, by_agency=by_agency, actor=actor.label, reason=reason, now=now
        )
        if invoice_id is not None and invoice_status is not None:
            act.record_invoice_cancellation(invoice_id, invoice_status, "payments", now)
        await uow.acts.save(act)
        _publish(uow, act)
        await uow.commit()
    log.info("act.revoked", act_id=act_id, by=actor.label, invoice=invoice_id, fee=invoice_status)
    return act


# -- public verification ---------------------------------------------------------------------
async def verify_publicly(
    uow: NotaryUnitOfWork, number: str, code: str
) -> tuple[NotarialAct, Notary, str]:
    """The act behind a number and verification code; one answer for a wrong number or a
    wrong code, and the code compared in constant time."""
    async with uow:
        act = await uow.acts.get_by_number(number)
        notary = await uow.notaries.get(act.notary_iin) if act else None
    expected = (act.verification_code if act else None) or "-" * 8
    matches = hmac.compare_digest(expected.encode(), code.strip().upper().encode())
    if act is None or notary is None or not matches:
        raise NotFound("no registered notarial act with this number and verification code")
    return act, notary, act.public_status(date.today())


# -- event handlers ------------------------------------------------------------------------
async def record_payment(uow: NotaryUnitOfWork, paid: InvoicePaid) -> None:
    """payments.invoice.paid (reference = act id) → fee paid, and registration if signed.
    A duplicate payment event changes nothing (one registration)."""
    if paid.beneficiary_agency != "notary":
        return
    act = await uow.acts.get(paid.reference)
    if act is None:
        log.warning("payment.unknown_act", reference=paid.reference, invoice=paid.invoice_id)
        return
    now = utcnow()
    changed = act.mark_fee_paid(
        invoice_id=paid.invoice_id,
        amount_tiyn=paid.amount_tiyn,
        paid_at=paid.paid_at,
        actor="payments",
        now=now,
    )
    if not changed:
        return
    await _register_if_ready(uow, act, now)
    await uow.acts.save(act)
    _publish(uow, act)


async def record_transfer(uow: NotaryUnitOfWork, transferred: PropertyTransferred) -> None:
    act = await uow.acts.get_by_number(transferred.act_number)
    if act is None:
        log.warning("transfer.unknown_act", act_number=transferred.act_number)
        return
    owners = ", ".join(f"{h.id} {h.share.num}/{h.share.den}" for h in transferred.owners_after)
    if act.mark_executed("registry", utcnow(), detail=f"owners now: {owners}"):
        await uow.acts.save(act)
        _publish(uow, act)


async def record_transfer_rejection(
    uow: NotaryUnitOfWork, rejected: PropertyTransferRejected
) -> None:
    act = await uow.acts.get_by_number(rejected.act_number)
    if act is None:
        log.warning("transfer.unknown_act", act_number=rejected.act_number)
        return
    if act.mark_rejected(rejected.reason, "registry", utcnow()):
        await uow.acts.save(act)
        _publish(uow, act)


# -- helpers -------------------------------------------------------------------------------
async def _no_property() -> PropertyFact | None:
    return None


async def _act(uow: NotaryUnitOfWork, act_id: str) -> NotarialAct:
    act = await uow.acts.get(act_id)
    if act is None:
        raise NotFound(f"no notarial act {act_id}")
    return act


def _ensure_notary_side(act: NotarialAct, actor: Actor) -> None:
    """Checks, notary signature and registration: the act's notary, or an agency."""
    if actor.is_citizen and actor.user != act.notary_iin:
        if act.may_be_seen_by(actor.user):
            raise PermissionDenied("only the act's notary may do this")
        raise NotFound(f"no notarial act {act.id}")


def _publish(uow: NotaryUnitOfWork, act: NotarialAct) -> None:
    for event in act.events:
        data = _contract_event(event)
        # the act's process, whichever request or event moves it now (the uow's causation)
        uow.emit(data, subject=act.number or act.id, correlation_id=act.correlation_id)
    act.events.clear()


def _holders(items: Any) -> list[Holder]:
    return [Holder(id=h.iin, share=Share.of(h.share)) for h in items]


def _contract_event(event: DomainEvent) -> EventData:
    if isinstance(event, ActWasRegistered):
        act = event.act
        assert act.number is not None and act.registered_at is not None
        parties = list(dict.fromkeys(p.iin for p in act.parties))
        sale = act.terms if isinstance(act.terms, PropertySaleTerms) else None
        return ActRegistered(
            act_number=act.number,
            act_id=act.id,
            kind=act.terms.kind,
            notary_iin=act.notary_iin,
            registered_at=act.registered_at,
            parties=parties,
            cadastral_number=sale.cadastral_number if sale else None,
            sellers=_holders(sale.sellers) if sale else [],
            buyers=_holders(sale.buyers) if sale else [],
            price_tiyn=sale.price_tiyn if sale else None,
        )
    if isinstance(event, ActWasExecuted):
        return ActExecuted(act_number=event.act_number)
    if isinstance(event, ActWasRejected):
        return ActRejected(act_number=event.act_number, reason=event.reason)
    assert isinstance(event, ActWasRevoked)
    return ActRevoked(act_number=event.act_number, reason=event.reason)
