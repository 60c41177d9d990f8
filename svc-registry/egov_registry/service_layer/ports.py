"""What the registry's use cases need from outside: SDB Individuals (identity), a signer and
national trust. Adapters implement them; tests may pass fakes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from cryptography import x509

from egov_registry.domain.civil_status import FamilyRecord, PersonRecord
from meshkit.contracts.identity import ConsentCategory, PersonCreate


class IdentityDirectory(Protocol):
    async def person(
        self, iin: str, *, purpose: str, on_behalf_of: str | None
    ) -> PersonRecord | None:
        """The person with this IIN, or None when SDB Individuals has none."""

    async def register_child(
        self, person: PersonCreate, *, idempotency_key: str, on_behalf_of: str | None
    ) -> PersonRecord:
        """Create the person and allocate the IIN (same key → the same person)."""

    async def family(
        self, iin: str, *, purpose: str, on_behalf_of: str | None
    ) -> FamilyRecord | None:
        """The person's parents and children, or None when SDB Individuals has no such person."""

    async def consented(
        self, iin: str, *, category: ConsentCategory, purpose: str, on_behalf_of: str | None
    ) -> bool:
        """Whether the person holds a valid consent for the registry covering ``category``."""


class Signer(Protocol):
    def sign(self, payload: dict[str, Any], *, typ: str = "JWT") -> str: ...


class Trust(Protocol):
    async def roots(self) -> list[x509.Certificate]: ...

    async def revoked_at(self, cert: x509.Certificate) -> datetime | None: ...
