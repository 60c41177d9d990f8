"""Use cases: apply, invoice, payment, decision, issuance, SLA, suspension/revocation, verify.

Calls to other agencies happen outside database transactions; each state change is one
unit of work that writes the change and its events (outbox) together.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from egov_licensing.domain.catalogue import CATALOGUE, priced
from egov_licensing.domain.model import (
    ApplicantFacts,
    Application,
    ApplicationStatus,
    License,
    LicenseStatus,
    LicenseType,
    license_number,
    qualify,
)
from egov_licensing.service_layer.context import LicensingContext
from egov_licensing.service_layer.unit_of_work import LicensingUnitOfWork
from meshkit import calendar, context
from meshkit.contracts.identity import PersonOut
from meshkit.contracts.licensing import (
    ApplicationDecided,
    ApplicationOverdue,
    ApplicationSubmitted,
    LicenseIssued,
    LicenseReinstated,
    LicenseRevoked,
    LicenseSuspended,
)
from meshkit.contracts.payments import InvoiceCreate, InvoiceOut, InvoicePaid
from meshkit.contracts.registry import LegalEntityOut, LegalEntityStatusChanged
from meshkit.documents import VerifiedDocument, verify_document
from meshkit.errors import DomainError, NotFound, PermissionDenied, UpstreamUnavailable

log = structlog.get_logger("egov_licensing")

UowFactory = Callable[[], LicensingUnitOfWork]
AUTOMATIC = "licensing:automatic"


# -- catalogue --------------------------------------------------------------------------------
async def seed_catalogue(uow: LicensingUnitOfWork) -> int:
    async with uow:
        added = await uow.license_types.add_missing(CATALOGUE)
        await uow.commit()
    return added


def _today() -> date:
    return calendar.local_date(datetime.now(UTC))


async def license_types(uow: LicensingUnitOfWork) -> list[LicenseType]:
    """The stored types, each with today's fee and KBK from the catalogue file."""
    async with uow:
        return [priced(t, _today()) for t in await uow.license_types.list()]


async def license_type(uow: LicensingUnitOfWork, code: str) -> LicenseType:
    async with uow:
        t = await uow.license_types.get(code)
    if t is None:
        raise NotFound(f"there is no license type {code}")
    return priced(t, _today())


# -- applying ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Apply:
    license_type: str
    applicant_iin: str
    applicant_bin: str | None
    details: dict[str, Any]
    actor: str  # who filed it: citizen:<iin> or agency:<code>[:<iin>]
    idempotency_key: str | None = None


async def gather_facts(
    ctx: LicensingContext, cmd: Apply, application_id: str, existing_license: str | None
) -> ApplicantFacts:
    """Ask identity (and registry, for a business) through the gateway — once-only."""
    gw = ctx.gateway()
    purpose = f"licensing: verify the applicant of license application {application_id}"

    async def person() -> PersonOut | None:
        try:
            body = await gw.get(
                "identity",
                f"/persons/{cmd.applicant_iin}",
                purpose=purpose,
                on_behalf_of=cmd.applicant_iin,
            )
        except NotFound:
            return None
        return PersonOut.model_validate(body)

    async def entity() -> LegalEntityOut | None:
        if not cmd.applicant_bin:
            return None
        try:
            body = await gw.get(
                "registry",
                f"/legal-entities/{cmd.applicant_bin}",
                purpose=purpose,
                on_behalf_of=cmd.applicant_iin,
            )
        except NotFound:
            return None
        return LegalEntityOut.model_validate(body)

    try:
        p, e = await asyncio.gather(person(), entity())
    except UpstreamUnavailable:
        raise
    except DomainError as exc:  # refused by the gateway: we cannot check, so we cannot accept
        raise UpstreamUnavailable(f"the applicant cannot be verified now ({exc.detail})") from exc
    names = [p.surname, p.given_name, p.patronymic] if p else []
    return ApplicantFacts(
        applicant_iin=cmd.applicant_iin,
        applicant_bin=cmd.applicant_bin,
        person_found=p is not None,
        person_alive=p is not None and p.status == "active",
        person_birth_date=p.birth_date if p else None,
        person_name=" ".join(n for n in names if n) or None,
        entity_found=e is not None if cmd.applicant_bin else True,
        entity_status=e.status if e else None,
        entity_director_iin=e.director_iin if e else None,
        entity_legal_form=e.legal_form if e else None,
        entity_activity_codes=tuple(e.activity_codes) if e else (),
        entity_name=e.name_kk if e else None,
        holds_license_number=existing_license,
    )


async def apply(ctx: LicensingContext, uows: UowFactory, cmd: Apply) -> Application:
    """File an application: verify the applicant, decide what can be decided automatically,
    and (when it stands) ask payments for the state-duty invoice."""
    async with uows() as uow:
        lt = await uow.license_types.get(cmd.license_type)
        if lt is None or not lt.active:
            raise NotFound(f"there is no license type {cmd.license_type}")
        if cmd.idempotency_key:
            known = await uow.applications.by_idempotency_key(cmd.actor, cmd.idempotency_key)
            if known:
                app = await uow.applications.get(known)
                assert app is not None
                return app
        existing = await uow.licenses.active_number(cmd.applicant_bin or cmd.applicant_iin, lt.code)

    application_id = str(uuid.uuid4())
    facts = await gather_facts(ctx, cmd, application_id, existing)
    if (
        cmd.actor.startswith("citizen:")
        and cmd.applicant_bin
        and facts.entity_found
        and facts.entity_director_iin != cmd.applicant_iin
    ):
        # a citizen applies for a company only as its director: a stranger files nothing for
        # somebody else's company (and learns nothing of it)
        raise PermissionDenied(
            "you can apply for a license only for a legal entity you direct",
            errors={"applicant_bin": "you are not its director"},
        )
    now = ctx.clock.now()
    lt = priced(lt, calendar.local_date(now))  # the fee in the MRP of the day of filing
    checks = qualify(lt, facts, cmd.details, calendar.local_date(now))
    app = Application.file(
        id=application_id,
        license_type=lt,
        applicant_iin=cmd.applicant_iin,
        applicant_bin=cmd.applicant_bin,
        holder_name=facts.entity_name if cmd.applicant_bin else facts.person_name,
        details=cmd.details,
        at=now,
        actor=cmd.actor,
        due_at=calendar.due_at(now, lt.sla_working_days),
        checks=checks,
        idempotency_key=cmd.idempotency_key,
        # filed as a step of a single-window application: its events are that application's
        correlation_id=context.current_correlation_id(),
    )
    try:
        async with uows() as uow:
            await uow.applications.add(app)
            uow.emit(
                ApplicationSubmitted(
                    application_id=app.id,
                    license_type=app.license_type,
                    applicant=app.holder,
                    due_at=app.due_at,
                    applicant_iin=app.applicant_iin,
                ),
                subject=app.id,
                correlation_id=app.process,
            )
            if app.status == ApplicationStatus.REJECTED:
                _emit_decided(uow, app)
            await uow.commit()
    except IntegrityError:
        if not cmd.idempotency_key:
            raise
        async with uows() as uow:  # the same request raced itself: answer with the first
            known = await uow.applications.by_idempotency_key(cmd.actor, cmd.idempotency_key)
            found = await uow.applications.get(known) if known else None
        if found is None:
            raise
        return found
    log.info("application.submitted", application_id=app.id, status=app.status.value)
    if app.status == ApplicationStatus.AWAITING_INVOICE:
        await request_invoice(ctx, uows, app.id, lt)
    return await get_application(uows(), app.id)


def _emit_decided(uow: LicensingUnitOfWork, app: Application) -> None:
    uow.emit(
        ApplicationDecided(
            application_id=app.id,
            license_type=app.license_type,
            applicant=app.holder,
            approved=bool(app.approved),
            reason=app.decision_reason,
            license_number=app.license_number,
            applicant_iin=app.applicant_iin,
            decided_by=app.decided_by,
            decided_at=app.decided_at,
            within_sla=app.decided_in_time,
        ),
        subject=app.id,
        correlation_id=app.process,
    )


async def request_invoice(
    ctx: LicensingContext, uows: UowFactory, application_id: str, lt: LicenseType | None = None
) -> bool:
    """Ask payments for the state-duty invoice (idempotent on the application id)."""
    async with uows() as uow:
        app = await uow.applications.get(application_id)
        if app is None or app.status != ApplicationStatus.AWAITING_INVOICE:
            return False
        lt = lt or await uow.license_types.get(app.license_type)
    assert lt is not None
    today = calendar.local_date(ctx.clock.now())
    body = InvoiceCreate(
        payer=app.holder,
        amount_tiyn=app.amount_tiyn,
        purpose=f"Лицензиялық алым / Лицензионный сбор: {lt.name_ru}"[:300],
        kbk=lt.kbk,
        beneficiary_agency="licensing",
        due_date=today + timedelta(days=ctx.settings.invoice_due_days),
        reference=app.id,
        # a company's fee: its director who applied may see and pay it (a BIN cannot log in)
        payer_representative_iin=app.applicant_iin if app.applicant_bin else None,
    )
    try:
        # also when retried later: the invoice (and its payment) is the application's process
        with context.correlated(app.process):
            answer = await ctx.gateway().post(
                "payments",
                "/invoices",
                json=body.model_dump(mode="json"),
                idempotency_key=app.id,
                purpose=f"licensing: state duty for license application {app.id}",
                on_behalf_of=app.applicant_iin,
            )
        invoice = InvoiceOut.model_validate(answer)
    except (DomainError, ValidationError) as exc:
        detail = (
            exc.detail if isinstance(exc, DomainError) else "payments answered an unexpected shape"
        )
        log.warning("invoice.delayed", application_id=app.id, error=detail)
        async with uows() as uow:
            app = await uow.applications.get(application_id, for_update=True)
            if app is not None and (not app.steps or app.steps[-1].step != "invoice_delayed"):
                app.invoice_failed(detail, ctx.clock.now())
                await uow.applications.save(app)
                await uow.commit()
        return False
    async with uows() as uow:
        app = await uow.applications.get(application_id, for_update=True)
        if app is not None and app.invoice_issued(invoice.id, ctx.clock.now()):
            await uow.applications.save(app)
            await uow.commit()
    return True


async def get_application(uow: LicensingUnitOfWork, application_id: str) -> Application:
    async with uow:
        app = await uow.applications.get(application_id)
    if app is None:
        raise NotFound(f"there is no license application {application_id}")
    return app


async def list_applications(
    uow: LicensingUnitOfWork, *, holder: str | None, applicant_iin: str | None, limit: int = 100
) -> list[Application]:
    async with uow:
        ids = await uow.applications.list_ids(
            holder=holder, applicant_iin=applicant_iin, limit=limit
        )
        out = []
        for i in ids:
            a = await uow.applications.get(i)
            if a is not None:
                out.append(a)
        return out


# -- payment and decision ---------------------------------------------------------------------
async def record_payment(
    ctx: LicensingContext, uow: LicensingUnitOfWork, paid: InvoicePaid
) -> None:
    """``payments.invoice.paid`` for one of our applications (inside the consumer's uow)."""
    if paid.beneficiary_agency != "licensing":
        return
    app = await uow.applications.get(paid.reference, for_update=True)
    if app is None:
        log.info("payment.unknown_reference", reference=paid.reference)
        return
    now = ctx.clock.now()
    if not app.mark_paid(paid.invoice_id, paid.amount_tiyn, now):
        await uow.applications.save(app)  # a short payment leaves a note
        log.info("payment.duplicate_or_short", application_id=app.id, invoice_id=paid.invoice_id)
        return
    if app.status == ApplicationStatus.UNDER_REVIEW and not app.needs_officer:
        await _issue(
            ctx, uow, app, actor=AUTOMATIC, reason="every requirement was checked automatically"
        )
    await uow.applications.save(app)


async def decide(
    ctx: LicensingContext,
    uows: UowFactory,
    application_id: str,
    *,
    approve: bool,
    reason: str,
    officer: str,
) -> Application:
    async with uows() as uow:
        app = await uow.applications.get(application_id, for_update=True)
        if app is None:
            raise NotFound(f"there is no license application {application_id}")
        if approve:
            await _issue(ctx, uow, app, actor=officer, reason=reason)
        else:
            app.reject(reason, actor=officer, at=ctx.clock.now())
            _emit_decided(uow, app)
        await uow.applications.save(app)
        await uow.commit()
    return await get_application(uows(), application_id)


async def _issue(
    ctx: LicensingContext, uow: LicensingUnitOfWork, app: Application, *, actor: str, reason: str
) -> License:
    lt = await uow.license_types.get(app.license_type)
    assert lt is not None
    now = ctx.clock.now()
    today = calendar.local_date(now)
    app.ensure_approvable()  # before a number is taken from the counter
    number = license_number(today, await uow.licenses.next_sequence(today.year))
    app.approve(actor=actor, reason=reason, at=now, license_number=number)
    lic = License.issue(
        number=number, license_type=lt, application=app, at=now, today=today, actor=actor
    )
    if ctx.document_keys.ready:
        lic.document = sign_license(ctx, lic, lt)
    await uow.licenses.add(lic)
    _emit_decided(uow, app)
    uow.emit(
        LicenseIssued(
            number=lic.number,
            license_type=lic.license_type,
            holder=lic.holder,
            application_id=app.id,
            valid_until=lic.valid_until,
            holder_name=lic.holder_name,
            valid_from=lic.valid_from,
        ),
        subject=lic.number,
        correlation_id=app.process,
    )
    log.info(
        "license.issued", number=number, application_id=app.id, signed=lic.document is not None
    )
    return lic


# -- documents --------------------------------------------------------------------------------
def license_payload(lic: License, lt: LicenseType) -> dict[str, Any]:
    return {
        "typ": "kz.egov.license",
        "iss": "licensing",
        "number": lic.number,
        "license_type": lt.code,
        "license_type_name": {"kk": lt.name_kk, "ru": lt.name_ru, "en": lt.name_en},
        "authority": {
            "code": lt.authority_code,
            "kk": lt.authority_kk,
            "ru": lt.authority_ru,
            "en": lt.authority_en,
        },
        "holder": lic.holder,
        "holder_kind": lic.holder_kind,
        "holder_name": lic.holder_name,
        "application_id": lic.application_id,
        "issued_at": lic.issued_at.isoformat(),
        "valid_from": lic.valid_from.isoformat(),
        "valid_until": lic.valid_until.isoformat() if lic.valid_until else None,
    }


def sign_license(ctx: LicensingContext, lic: License, lt: LicenseType) -> str:
    payload = license_payload(lic, lt)
    # iat is the physical instant of the signature (the chain is checked at that instant),
    # which in tests may differ from the business clock that dates the license
    payload["iat"] = int(datetime.now(UTC).timestamp())
    return ctx.document_keys.signer().sign(payload, typ="JWT")


async def sign_pending(ctx: LicensingContext, uows: UowFactory) -> int:
    """Licenses issued while the CA had not yet certified our key get their document now."""
    if not ctx.document_keys.ready:
        return 0
    signed = 0
    async with uows() as uow:
        for number in await uow.licenses.unsigned_numbers():
            lic = await uow.licenses.get(number, for_update=True)
            if lic is None or lic.document is not None:
                continue
            lt = await uow.license_types.get(lic.license_type)
            assert lt is not None
            lic.document = sign_license(ctx, lic, lt)
            await uow.licenses.save(lic)
            signed += 1
        await uow.commit()
    return signed


@dataclass(frozen=True)
class Verification:
    valid: bool  # authentic and in force
    authentic: bool
    reason: str | None
    license: License | None
    signed_at: datetime | None
    signer: str | None


async def verify(ctx: LicensingContext, uows: UowFactory, document: str) -> Verification:
    # Offline first (no roots): a malformed, altered or foreign document is refused without
    # asking the national CA, so junk never depends on (or waits for) the CA being reachable.
    # verify_document only carries the payload past the signature check, i.e. when what is
    # left to decide is the chain to the national root and revocation.
    offline: VerifiedDocument = await verify_document(document, roots=[])
    if offline.payload is None:
        return Verification(False, False, offline.reason, None, None, offline.signer)
    trust = ctx.trust
    checked: VerifiedDocument = await verify_document(
        document, roots=await trust.roots(), revocation=trust.revoked_at
    )
    if not checked.valid:
        return Verification(False, False, checked.reason, None, None, checked.signer)
    payload = checked.payload or {}
    if checked.signer != "licensing" or payload.get("typ") != "kz.egov.license":
        return Verification(
            False,
            False,
            "the document was not issued by the licensing service",
            None,
            None,
            checked.signer,
        )
    number = str(payload.get("number") or "")
    async with uows() as uow:
        lic = await uow.licenses.get(number)
    if lic is None:
        return Verification(
            False,
            False,
            f"license {number} is not in the register",
            None,
            checked.signed_at,
            checked.signer,
        )
    if payload.get("holder") != lic.holder or payload.get("license_type") != lic.license_type:
        return Verification(
            False,
            False,
            "the document does not match the register",
            lic,
            checked.signed_at,
            checked.signer,
        )
    today = calendar.local_date(ctx.clock.now())
    status = lic.effective_status(today)
    if status != "active":
        reason = f"the license is {status}"
        if lic.status_reason and status != "expired":
            reason += f": {lic.status_reason}"
        return Verification(False, True, reason, lic, checked.signed_at, checked.signer)
    return Verification(True, True, None, lic, checked.signed_at, checked.signer)


# -- licenses ---------------------------------------------------------------------------------
async def get_license(uow: LicensingUnitOfWork, number: str) -> License:
    async with uow:
        lic = await uow.licenses.get(number)
    if lic is None:
        raise NotFound(f"there is no license {number}")
    return lic


async def change_license(
    ctx: LicensingContext, uows: UowFactory, number: str, action: str, *, reason: str, actor: str
) -> License:
    async with uows() as uow:
        lic = await uow.licenses.get(number, for_update=True)
        if lic is None:
            raise NotFound(f"there is no license {number}")
        now = ctx.clock.now()
        if action == "suspend":
            lic.suspend(reason, actor=actor, at=now)
            uow.emit(
                LicenseSuspended(number=number, holder=lic.holder, reason=reason), subject=number
            )
        elif action == "reinstate":
            lic.reinstate(reason, actor=actor, at=now)
            uow.emit(
                LicenseReinstated(number=number, holder=lic.holder, reason=reason), subject=number
            )
        elif action == "revoke":
            lic.revoke(reason, actor=actor, at=now)
            uow.emit(
                LicenseRevoked(number=number, holder=lic.holder, reason=reason), subject=number
            )
        else:  # pragma: no cover - routers only pass the three actions
            raise ValueError(action)
        await uow.licenses.save(lic)
        await uow.commit()
    return lic


async def legal_entity_status_changed(
    ctx: LicensingContext, uow: LicensingUnitOfWork, changed: LegalEntityStatusChanged
) -> None:
    """A liquidated legal entity loses every license; its open applications are refused."""
    if changed.new_status != "liquidated":
        return
    now = ctx.clock.now()
    reason = f"the legal entity {changed.bin} was liquidated on {changed.effective_date}: {changed.reason}"
    for number in await uow.licenses.numbers_for_holder(
        changed.bin, [LicenseStatus.ACTIVE, LicenseStatus.SUSPENDED]
    ):
        lic = await uow.licenses.get(number, for_update=True)
        if lic is None or lic.status == LicenseStatus.REVOKED:
            continue
        lic.revoke(reason, actor="registry", at=now)
        await uow.licenses.save(lic)
        uow.emit(LicenseRevoked(number=number, holder=lic.holder, reason=reason), subject=number)
    for application_id in await uow.applications.open_ids_for_holder(changed.bin):
        app = await uow.applications.get(application_id, for_update=True)
        if app is None or not app.is_open:
            continue
        app.reject(reason, actor="registry", at=now)
        await uow.applications.save(app)
        _emit_decided(uow, app)


# -- SLA --------------------------------------------------------------------------------------
async def detect_overdue(ctx: LicensingContext, uows: UowFactory) -> int:
    """Mark and publish every application past its due time without a decision — once."""
    now = ctx.clock.now()
    marked = 0
    async with uows() as uow:
        for application_id in await uow.applications.overdue_ids(now):
            app = await uow.applications.get(application_id, for_update=True)
            if app is None or not app.mark_overdue(now):
                continue
            await uow.applications.save(app)
            uow.emit(
                ApplicationOverdue(
                    application_id=app.id,
                    license_type=app.license_type,
                    applicant=app.holder,
                    due_at=app.due_at,
                    applicant_iin=app.applicant_iin,
                    status=app.status.value,
                ),
                subject=app.id,
                correlation_id=app.process,
            )
            marked += 1
        await uow.commit()
    if marked:
        log.info("sla.overdue_detected", count=marked)
    return marked


async def retry_pending(ctx: LicensingContext, uows: UowFactory) -> None:
    """Invoices payments could not issue yet, and documents not yet signed."""
    async with uows() as uow:
        ids = await uow.applications.ids_with_status(ApplicationStatus.AWAITING_INVOICE)
    for application_id in ids:
        await request_invoice(ctx, uows, application_id)
    await sign_pending(ctx, uows)


async def stats(ctx: LicensingContext, uow: LicensingUnitOfWork) -> dict[str, Any]:
    now = ctx.clock.now()
    async with uow:
        apps = await uow.applications.stats(now)
        lics = await uow.licenses.stats()
    return {"at": now, "applications": apps, "licenses": lics}
