"""What svc-notary asks other agencies, through the e-government gateway — and the one place
their answers are parsed into domain facts.

- identity ``GET /persons/{iin}`` → :class:`PersonFact`
- identity ``POST /ca/verify`` ``{jws}`` → :class:`SignatureVerification`
- registry ``GET /properties/{cadastral_number}`` → :class:`PropertyFact`
- payments ``POST /invoices`` (``Idempotency-Key`` = act id) → invoice id
- payments ``POST /invoices/{id}/cancel`` (and ``GET /invoices/{id}`` when refused) → status
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import jwt

from egov_notary.domain.checks import EncumbranceFact, PersonFact, PropertyFact
from meshkit.contracts.identity import PersonOut
from meshkit.contracts.payments import InvoiceCreate, InvoiceOut
from meshkit.contracts.registry import PropertyOut
from meshkit.errors import Conflict, NotFound, RuleViolation
from meshkit.gateway_client import GatewayClient


@dataclass(frozen=True)
class SignatureVerification:
    valid: bool
    signer: str | None
    signed_at: datetime | None
    reason: str | None
    certificate_serial: str | None
    payload: dict[str, Any] | None


def parse_verify_answer(body: Mapping[str, Any], jws: str) -> SignatureVerification:
    """identity's ``POST /ca/verify`` answer → a verification (adapt here if its shape moves).

    The signed payload is read from the token itself: identity vouches for the signature
    over exactly these bytes, so the unverified decode of the same token is what was signed.
    """
    signed_at_raw = body.get("signed_at")
    signed_at = None
    if isinstance(signed_at_raw, str) and signed_at_raw:
        signed_at = datetime.fromisoformat(signed_at_raw.replace("Z", "+00:00"))
    serial = (
        body.get("certificate_serial")
        or body.get("serial")
        or body.get("signer_certificate_serial")
    )
    signer = body.get("signer") or body.get("subject")
    return SignatureVerification(
        valid=bool(body.get("valid")),
        signer=str(signer) if signer else None,
        signed_at=signed_at,
        reason=body.get("reason"),
        certificate_serial=str(serial) if serial else None,
        payload=jws_payload(jws),
    )


def jws_payload(jws: str) -> dict[str, Any] | None:
    try:
        payload = jwt.decode(jws, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return payload if isinstance(payload, dict) else None


def _full_name(p: PersonOut) -> str:
    return " ".join(x for x in (p.surname, p.given_name, p.patronymic) if x)


class GatewayAgencies:
    """The agencies svc-notary depends on, reached through the gateway."""

    def __init__(self, gateway: Callable[[], GatewayClient]) -> None:
        self._gateway = gateway

    @property
    def gw(self) -> GatewayClient:
        """The runtime's client, looked up per call (created on first use)."""
        return self._gateway()

    async def person(self, iin: str, *, on_behalf_of: str | None) -> PersonFact | None:
        try:
            body = await self.gw.get(
                "identity",
                f"/persons/{iin}",
                purpose="notarial act: check that a party exists and is alive",
                on_behalf_of=on_behalf_of,
            )
        except NotFound:
            return None
        person = PersonOut.model_validate(body)
        return PersonFact(
            iin=person.iin,
            full_name=_full_name(person),
            alive=person.status == "active",
            date_of_death=person.date_of_death,
        )

    async def property(
        self, cadastral_number: str, *, on_behalf_of: str | None
    ) -> PropertyFact | None:
        try:
            body = await self.gw.get(
                "registry",
                f"/properties/{quote(cadastral_number, safe=':')}",
                purpose="property sale: check ownership and encumbrances",
                on_behalf_of=on_behalf_of,
            )
        except NotFound:
            return None
        prop = PropertyOut.model_validate(body)
        return PropertyFact(
            cadastral_number=prop.cadastral_number,
            address=prop.address,
            owners={o.id: o.share.fraction for o in prop.owners},
            encumbrances=tuple(
                EncumbranceFact(
                    kind=e.kind, imposed_by=e.imposed_by, imposed_at=e.imposed_at, active=e.active
                )
                for e in prop.encumbrances
            ),
        )

    async def verify_signature(
        self, jws: str, *, on_behalf_of: str | None
    ) -> SignatureVerification:
        try:
            body = await self.gw.post(
                "identity",
                "/ca/verify",
                json={"jws": jws},
                purpose="notarial act: verify a signature with the national CA",
                on_behalf_of=on_behalf_of,
            )
        except RuleViolation as exc:  # identity refused the token as malformed
            return SignatureVerification(False, None, None, exc.detail, None, None)
        return parse_verify_answer(body or {}, jws)

    async def issue_invoice(self, invoice: InvoiceCreate, *, idempotency_key: str) -> str:
        body = await self.gw.post(
            "payments",
            "/invoices",
            json=invoice.model_dump(mode="json"),
            purpose="notarial act: state duty",
            on_behalf_of=invoice.payer,
            idempotency_key=idempotency_key,
        )
        return InvoiceOut.model_validate(body).id

    async def cancel_invoice(
        self, invoice_id: str, *, reason: str, on_behalf_of: str | None
    ) -> str:
        """Cancel an unpaid fee invoice; its status afterwards: ``cancelled``, or — payments
        refuses to cancel an invoice no longer issued (paid meanwhile, cancelled by an earlier
        attempt, expired) — its current status; ``unknown`` if payments has no such invoice."""
        path = f"/invoices/{quote(invoice_id, safe='')}"
        try:
            body = await self.gw.post(
                "payments",
                f"{path}/cancel",
                json={"reason": reason},
                purpose="notarial act withdrawn: cancel its unpaid state duty",
                on_behalf_of=on_behalf_of,
            )
        except Conflict:
            try:
                body = await self.gw.get(
                    "payments",
                    path,
                    purpose="notarial act withdrawn: the state of its state duty",
                    on_behalf_of=on_behalf_of,
                )
            except NotFound:
                return "unknown"
        except NotFound:
            return "unknown"
        return InvoiceOut.model_validate(body).status
