"""The notarial act aggregate and its life:

draft → checks_passed → fee_paid → signed_by_parties → signed_by_notary → registered →
executed (sales, once the registry transferred the property) — or blocked (a check failed),
rejected (the registry refused the transfer) or revoked.

The parties may sign as soon as the checks passed, before or after the fee is paid; the
status always names the furthest stage of that order whose predecessors are all done, and
``awaiting`` says what registration still waits for. Every step is recorded with its time,
actor and reason.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from egov_notary.domain.checks import CheckOutcome
from egov_notary.domain.notaries import Notary
from egov_notary.domain.terms import (
    Party,
    PowerOfAttorneyTerms,
    PropertySaleTerms,
    Terms,
)
from meshkit.documents import canonical_json
from meshkit.errors import Conflict, PermissionDenied, RuleViolation


class ActStatus(StrEnum):
    DRAFT = "draft"
    BLOCKED = "blocked"
    CHECKS_PASSED = "checks_passed"
    FEE_PAID = "fee_paid"
    SIGNED_BY_PARTIES = "signed_by_parties"
    SIGNED_BY_NOTARY = "signed_by_notary"
    REGISTERED = "registered"
    EXECUTED = "executed"
    REJECTED = "rejected"
    REVOKED = "revoked"


#: stages between passing the checks and registration (signatures and fee, any order)
IN_PROGRESS = frozenset(
    {
        ActStatus.CHECKS_PASSED,
        ActStatus.FEE_PAID,
        ActStatus.SIGNED_BY_PARTIES,
        ActStatus.SIGNED_BY_NOTARY,
    }
)
FINAL = frozenset({ActStatus.EXECUTED, ActStatus.REJECTED, ActStatus.REVOKED})

#: the parties who apply for (and may withdraw, before registration) an act of each kind —
#: the principal of a power of attorney (not the attorney), a buyer or seller, the applicant
APPLICANT_ROLES: dict[str, frozenset[str]] = {
    "power_of_attorney": frozenset({"principal"}),
    "property_sale": frozenset({"seller", "buyer"}),
    "copy_certification": frozenset({"applicant"}),
}
#: the refusals of a revocation by a citizen who is not the act's notary
REVOKED_BY_THE_NOTARY = "a registered act is revoked by the notary"
POA_REVOKED_BY = "a registered power of attorney is revoked by its principal or the notary"
NOT_A_WITHDRAWING_PARTY: dict[str, str] = {
    "power_of_attorney": "an unregistered power of attorney is withdrawn by its principal or "
    "the notary",
    "property_sale": "an unregistered sale is withdrawn by a buyer, a seller or the notary",
    "copy_certification": "an unregistered certified copy is withdrawn by its applicant or the "
    "notary",
}

SignatureRole = Literal["party", "notary"]

# no 0/O, 1/I/L: read aloud or typed from paper without confusion
VERIFICATION_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
VERIFICATION_CODE_LENGTH = 8


def new_verification_code() -> str:
    return "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH))


def format_act_number(year: int, sequence: int) -> str:
    return f"N-{year}-{sequence:06d}"


def notarial_fee_tiyn(terms: Terms, mrp_tiyn: int) -> int:
    """The state duty for the act, in monthly calculation indices (MRP) converted to tiyn.

    A simplified schedule (Tax Code art. 615): a power of attorney 0.5 MRP, a property sale
    1 MRP, a certified copy 0.1 MRP per page.
    """
    if isinstance(terms, PowerOfAttorneyTerms):
        return mrp_tiyn // 2
    if isinstance(terms, PropertySaleTerms):
        return mrp_tiyn
    return (mrp_tiyn // 10) * terms.pages


@dataclass(frozen=True)
class Signature:
    signer_iin: str
    role: SignatureRole
    jws: str
    content_sha256: str
    signed_at: datetime | None
    certificate_serial: str | None
    accepted_at: datetime


@dataclass(frozen=True)
class ActStep:
    at: datetime
    step: str
    status: ActStatus
    actor: str
    reason: str | None = None


# -- domain events (the service layer turns them into contract events) ------------------
@dataclass(frozen=True)
class ActWasRegistered:
    act: NotarialAct


@dataclass(frozen=True)
class ActWasExecuted:
    act_number: str


@dataclass(frozen=True)
class ActWasRejected:
    act_number: str
    reason: str


@dataclass(frozen=True)
class ActWasRevoked:
    act_number: str
    reason: str


DomainEvent = ActWasRegistered | ActWasExecuted | ActWasRejected | ActWasRevoked


def signed_payload_mismatch(
    payload: dict[str, Any], content: dict[str, Any], digest: str
) -> str | None:
    """Why a JWS payload is not exactly the act's content (or its digest); None if it is.

    Accepted payloads: the canonical content itself, or ``{"sha256": <hex digest>}`` — each
    optionally with ``iat`` (the signing time the CA checks the certificate against).
    """
    body = {k: v for k, v in payload.items() if k != "iat"}
    if set(body) == {"sha256"}:
        if body["sha256"] == digest:
            return None
        return "the signature covers another content digest (the act's content differs)"
    if canonical_json(body) == canonical_json(content):
        return None
    return "the signed content is not the act's canonical content"


@dataclass
class NotarialAct:
    id: str
    notary_iin: str
    terms: Terms
    fee_tiyn: int
    created_at: datetime
    created_by: str
    status: ActStatus = ActStatus.DRAFT
    status_reason: str | None = None
    number: str | None = None
    verification_code: str | None = None
    invoice_id: str | None = None
    checks_passed_at: datetime | None = None
    fee_paid_at: datetime | None = None
    registered_at: datetime | None = None
    executed_at: datetime | None = None
    rejected_at: datetime | None = None
    revoked_at: datetime | None = None
    party_names: dict[str, str] = field(default_factory=dict)
    property_address: str | None = None
    signatures: list[Signature] = field(default_factory=list)
    steps: list[ActStep] = field(default_factory=list)
    #: the process the act was drafted in (a single-window application's id when drafted as
    #: one of its steps, else the drafting request's): every later event of the act — on a
    #: signature, a payment, the registry's transfer — carries it (DESIGN §5). None: older.
    correlation_id: str | None = None
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    # -- creation -----------------------------------------------------------------------
    @classmethod
    def draft(
        cls,
        *,
        act_id: str,
        notary: Notary,
        terms: Terms,
        fee_tiyn: int,
        actor: str,
        now: datetime,
        correlation_id: str | None = None,
    ) -> NotarialAct:
        notary.ensure_may_notarize()
        if notary.iin in {p.iin for p in terms.parties}:
            # Law on Notaries, art. 7: a notary does not certify acts in their own name
            raise RuleViolation(
                "a notary cannot perform a notarial act in which they are a party",
                code="notary_is_party",
            )
        act = cls(
            id=act_id,
            notary_iin=notary.iin,
            terms=terms,
            fee_tiyn=fee_tiyn,
            created_at=now,
            created_by=actor,
            correlation_id=correlation_id,
        )
        act._step("drafted", actor, now)
        return act

    # -- what the act says --------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.terms.kind

    @property
    def parties(self) -> tuple[Party, ...]:
        return self.terms.parties

    @property
    def signatories(self) -> tuple[Party, ...]:
        return self.terms.signatories

    @property
    def content(self) -> dict[str, Any]:
        """The legal content every signature covers (kind, parties, terms, notary, draft id)."""
        return {
            "act_id": self.id,
            "kind": self.kind,
            "notary_iin": self.notary_iin,
            "parties": [{"iin": p.iin, "role": p.role} for p in self.parties],
            "terms": self.terms.to_content(),
        }

    @property
    def canonical_content(self) -> bytes:
        return canonical_json(self.content)

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.canonical_content).hexdigest()

    def is_party(self, iin: str | None) -> bool:
        return iin is not None and iin in {p.iin for p in self.parties}

    def may_be_seen_by(self, iin: str | None) -> bool:
        return iin is not None and (iin == self.notary_iin or self.is_party(iin))

    # -- signatures ---------------------------------------------------------------------
    def party_signature(self, iin: str) -> Signature | None:
        return next((s for s in self.signatures if s.role == "party" and s.signer_iin == iin), None)

    @property
    def notary_signature(self) -> Signature | None:
        return next((s for s in self.signatures if s.role == "notary"), None)

    def _valid_for_content(self, sig: Signature | None) -> bool:
        return sig is not None and sig.content_sha256 == self.content_sha256

    @property
    def missing_party_signatures(self) -> list[Party]:
        return [
            p for p in self.signatories if not self._valid_for_content(self.party_signature(p.iin))
        ]

    def _ensure_signable(self) -> None:
        if self.status in (ActStatus.DRAFT, ActStatus.BLOCKED):
            raise RuleViolation(
                "the act cannot be signed before its checks pass"
                + (f" (blocked: {self.status_reason})" if self.status_reason else ""),
                code="checks_not_passed",
            )
        if self.status not in IN_PROGRESS:
            raise Conflict(f"the act is {self.status.value}; it can no longer be signed")

    def ensure_party_may_sign(self) -> None:
        self._ensure_signable()
        if self.notary_signature is not None:
            raise Conflict("the notary has already signed: the parties' signatures are closed")

    def add_party_signature(self, sig: Signature, now: datetime) -> bool:
        """Accept a verified party signature; False when that party had already signed it."""
        self.ensure_party_may_sign()
        if sig.signer_iin not in {p.iin for p in self.signatories}:
            raise PermissionDenied(
                f"{sig.signer_iin} is not a party who signs this act "
                f"(signatories: {', '.join(p.iin for p in self.signatories)})",
                code="not_a_signatory",
            )
        if sig.content_sha256 != self.content_sha256:
            raise RuleViolation("the signature is not over this act's content", code="bad_content")
        if self._valid_for_content(self.party_signature(sig.signer_iin)):
            return False
        role = next(p.role for p in self.signatories if p.iin == sig.signer_iin)
        self.signatures.append(sig)
        self._advance(now)
        self._step("signed_by_party", f"citizen:{sig.signer_iin}", now, reason=role)
        return True

    def record_refused_signature(
        self, *, role: SignatureRole, signer: str | None, reason: str, actor: str, now: datetime
    ) -> None:
        """A refused signature changes nothing but is kept in the act's history."""
        self._step("signature_refused", actor, now, reason=f"{role} {signer or '?'}: {reason}")

    def ensure_notary_may_sign(self) -> None:
        self._ensure_signable()
        missing = self.missing_party_signatures
        if missing:
            raise RuleViolation(
                "the notary signs last; still missing the signature of "
                + ", ".join(f"{p.role} {p.iin}" for p in missing),
                code="parties_not_signed",
            )

    def add_notary_signature(self, sig: Signature, notary: Notary, now: datetime) -> bool:
        self.ensure_notary_may_sign()
        notary.ensure_may_notarize()
        if sig.signer_iin != self.notary_iin or notary.iin != self.notary_iin:
            raise PermissionDenied(
                f"only the act's notary ({self.notary_iin}) signs as notary; "
                f"this signature is by {sig.signer_iin}",
                code="not_the_notary",
            )
        if sig.content_sha256 != self.content_sha256:
            raise RuleViolation("the signature is not over this act's content", code="bad_content")
        if self._valid_for_content(self.notary_signature):
            return False
        self.signatures.append(sig)
        self._advance(now)
        self._step("signed_by_notary", f"notary:{self.notary_iin}", now)
        return True

    # -- checks and fee -----------------------------------------------------------------
    @property
    def needs_checks(self) -> bool:
        return self.status in (ActStatus.DRAFT, ActStatus.BLOCKED)

    def record_checks(self, outcome: CheckOutcome, actor: str, now: datetime) -> None:
        if not self.needs_checks:
            return  # already passed: the content cannot have changed since
        self.party_names.update(outcome.party_names)
        if outcome.property_address:
            self.property_address = outcome.property_address
        if not outcome.passed:
            self.status = ActStatus.BLOCKED
            self.status_reason = outcome.reason
            self._step("checks_failed", actor, now, reason=outcome.reason)
            return
        self.status = ActStatus.CHECKS_PASSED
        self.status_reason = None
        self.checks_passed_at = now
        self._advance(now)
        self._step("checks_passed", actor, now)

    @property
    def needs_invoice(self) -> bool:
        return self.status in IN_PROGRESS and self.invoice_id is None and self.fee_paid_at is None

    def attach_invoice(self, invoice_id: str, actor: str, now: datetime) -> None:
        if self.invoice_id == invoice_id:
            return
        self.invoice_id = invoice_id
        self._step("invoice_issued", actor, now, reason=f"invoice {invoice_id}")

    def mark_fee_paid(
        self, *, invoice_id: str, amount_tiyn: int, paid_at: datetime, actor: str, now: datetime
    ) -> bool:
        """Record the payment; False for a logically duplicate (or irrelevant) payment."""
        if self.fee_paid_at is not None:
            return False
        if self.invoice_id is not None and invoice_id != self.invoice_id:
            return False  # an invoice this act does not know (e.g. issued twice upstream)
        if amount_tiyn < self.fee_tiyn:
            self._step(
                "payment_insufficient",
                actor,
                now,
                reason=f"paid {amount_tiyn} tiyn of {self.fee_tiyn}",
            )
            return True
        self.invoice_id = invoice_id
        self.fee_paid_at = paid_at
        self._advance(now)
        self._step("fee_paid", actor, now, reason=f"invoice {invoice_id}")
        return True

    # -- registration -------------------------------------------------------------------
    def registration_blockers(self, notary: Notary | None = None) -> list[str]:
        if self.status in (ActStatus.REGISTERED, *FINAL):
            return [f"the act is already {self.status.value}"]
        out: list[str] = []
        if self.needs_checks:
            out.append(
                "the checks have not passed"
                + (f" ({self.status_reason})" if self.status_reason else "")
            )
        if self.fee_paid_at is None:
            out.append("the fee is not paid")
        out.extend(
            f"the {p.role} {p.iin} has not signed the act's current content"
            for p in self.missing_party_signatures
        )
        if not self._valid_for_content(self.notary_signature):
            out.append("the notary has not signed")
        if notary is not None and not notary.active:
            out.append(f"the notary's license is {notary.status}")
        return out

    @property
    def awaiting(self) -> list[str]:
        if self.status in (ActStatus.REGISTERED, *FINAL):
            return []
        return self.registration_blockers()

    def register(self, *, number: str, code: str, notary: Notary, now: datetime) -> None:
        blockers = self.registration_blockers(notary)
        if blockers:
            raise RuleViolation(
                "the act cannot be registered: " + "; ".join(blockers), code="not_registrable"
            )
        self.number = number
        self.verification_code = code
        self.registered_at = now
        self.status = ActStatus.REGISTERED
        self._step("registered", "notary-system", now, reason=number)
        self.events.append(ActWasRegistered(self))

    # -- after registration ---------------------------------------------------------------
    def mark_executed(self, actor: str, now: datetime, detail: str | None = None) -> bool:
        if self.status != ActStatus.REGISTERED or not isinstance(self.terms, PropertySaleTerms):
            return False  # a duplicate, or an event about an act that does not wait for it
        self.status = ActStatus.EXECUTED
        self.executed_at = now
        self._step("executed", actor, now, reason=detail)
        assert self.number is not None
        self.events.append(ActWasExecuted(self.number))
        return True

    def mark_rejected(self, reason: str, actor: str, now: datetime) -> bool:
        if self.status != ActStatus.REGISTERED or not isinstance(self.terms, PropertySaleTerms):
            return False
        self.status = ActStatus.REJECTED
        self.status_reason = reason
        self.rejected_at = now
        self._step("rejected", actor, now, reason=reason)
        assert self.number is not None
        self.events.append(ActWasRejected(self.number, reason))
        return True

    def applies_for_it(self, iin: str | None) -> bool:
        """A party in an applicant's role: see :data:`APPLICANT_ROLES`."""
        roles = APPLICANT_ROLES[self.kind]
        return iin is not None and any(p.iin == iin and p.role in roles for p in self.parties)

    @property
    def open_invoice(self) -> str | None:
        """The fee invoice while it is unpaid (a withdrawal cancels it)."""
        return self.invoice_id if self.fee_paid_at is None else None

    def ensure_may_revoke(self, *, by_iin: str | None, by_agency: bool) -> None:
        """Withdraw an unregistered act, or revoke a registered power of attorney.

        Before registration (draft, blocked, checks passed, fee paid, partly or fully
        signed) the notary or a party who applies for such an act (the principal, a buyer or
        seller, the applicant) withdraws it. After registration a power of attorney is revoked
        by its principal or the notary, another act by the notary; a registered sale cannot be
        revoked (the registry is executing it). Agencies (e.g. on a court order) as the notary.
        """
        if self.status in FINAL:
            raise Conflict(f"the act is already {self.status.value}")
        registered = self.status == ActStatus.REGISTERED
        if registered and isinstance(self.terms, PropertySaleTerms):
            raise Conflict(
                "a registered sale cannot be revoked: the registry is transferring the property",
                code="sale_in_execution",
            )
        if by_agency or (by_iin is not None and by_iin == self.notary_iin):
            return
        if registered:
            if isinstance(self.terms, PowerOfAttorneyTerms):
                if by_iin == self.terms.principal_iin:
                    return
                raise PermissionDenied(POA_REVOKED_BY, code="may_not_revoke")
            raise PermissionDenied(REVOKED_BY_THE_NOTARY, code="may_not_revoke")
        if not self.applies_for_it(by_iin):
            raise PermissionDenied(NOT_A_WITHDRAWING_PARTY[self.kind], code="may_not_revoke")

    def revoke(
        self, *, by_iin: str | None, by_agency: bool, actor: str, reason: str, now: datetime
    ) -> None:
        """Revoke (registered) or withdraw (unregistered) the act: see :meth:`ensure_may_revoke`.
        The reason is recorded; a registered act's revocation is an event."""
        self.ensure_may_revoke(by_iin=by_iin, by_agency=by_agency)
        self.status = ActStatus.REVOKED
        self.status_reason = reason
        self.revoked_at = now
        self._step("revoked", actor, now, reason=reason)
        if self.number is not None:
            self.events.append(ActWasRevoked(self.number, reason))

    def record_invoice_cancellation(
        self, invoice_id: str, invoice_status: str, actor: str, now: datetime
    ) -> None:
        """What became of the fee invoice of a withdrawn act (payments' status of it)."""
        if invoice_status == "cancelled":
            self._step("invoice_cancelled", actor, now, reason=f"invoice {invoice_id}")
        else:
            self._step(
                "invoice_not_cancelled",
                actor,
                now,
                reason=f"invoice {invoice_id} is {invoice_status}",
            )

    # -- public view --------------------------------------------------------------------
    def public_status(self, today: date) -> str:
        if (
            self.status == ActStatus.REGISTERED
            and isinstance(self.terms, PowerOfAttorneyTerms)
            and today > self.terms.valid_until
        ):
            return "expired"
        return self.status.value

    # -- internals ----------------------------------------------------------------------
    def _step(self, step: str, actor: str, now: datetime, *, reason: str | None = None) -> None:
        self.steps.append(ActStep(now, step, self.status, actor, reason))

    def _advance(self, now: datetime) -> None:
        """Move the status along draft → … → signed_by_notary as far as the facts allow."""
        if self.status not in IN_PROGRESS:
            return
        stage = ActStatus.CHECKS_PASSED
        if self.fee_paid_at is not None:
            stage = ActStatus.FEE_PAID
            if not self.missing_party_signatures:
                stage = ActStatus.SIGNED_BY_PARTIES
                if self._valid_for_content(self.notary_signature):
                    stage = ActStatus.SIGNED_BY_NOTARY
        self.status = stage

    @property
    def ready_to_register(self) -> bool:
        return self.status in IN_PROGRESS and not self.registration_blockers()
