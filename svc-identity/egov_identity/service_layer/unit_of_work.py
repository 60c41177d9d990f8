"""The identity unit of work: one transaction, its repositories and its outbox rows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from egov_identity.adapters.repositories import (
    CertificateRepository,
    ConsentRepository,
    CredentialRepository,
    PersonRepository,
    SmsOutbox,
    TokenRepository,
)
from meshkit.events import EventData
from meshkit.messaging import UnitOfWork


class IdentityUnitOfWork(UnitOfWork):
    persons: PersonRepository
    credentials: CredentialRepository
    sms: SmsOutbox
    tokens: TokenRepository
    certificates: CertificateRepository
    consents: ConsentRepository

    def init_repositories(self, session: AsyncSession) -> None:
        self.persons = PersonRepository(session)
        self.credentials = CredentialRepository(session)
        self.sms = SmsOutbox(session)
        self.tokens = TokenRepository(session)
        self.certificates = CertificateRepository(session)
        self.consents = ConsentRepository(session)

    def publish(self, events: list[EventData], *, subject: str) -> None:
        """Move an aggregate's recorded events into this transaction's outbox."""
        for event in events:
            self.emit(event, subject=subject)
        events.clear()
