"""What the service layer needs from other agencies (the gateway adapter implements it;
unit tests may pass a fake)."""

from __future__ import annotations

from typing import Protocol

from egov_notary.adapters.agencies import SignatureVerification
from egov_notary.domain.checks import PersonFact, PropertyFact
from meshkit.contracts.payments import InvoiceCreate


class Agencies(Protocol):
    async def person(self, iin: str, *, on_behalf_of: str | None) -> PersonFact | None: ...

    async def property(
        self, cadastral_number: str, *, on_behalf_of: str | None
    ) -> PropertyFact | None: ...

    async def verify_signature(
        self, jws: str, *, on_behalf_of: str | None
    ) -> SignatureVerification: ...

    async def issue_invoice(self, invoice: InvoiceCreate, *, idempotency_key: str) -> str: ...

    async def cancel_invoice(
        self, invoice_id: str, *, reason: str, on_behalf_of: str | None
    ) -> str: ...
