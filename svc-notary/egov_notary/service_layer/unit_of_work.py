"""The notary unit of work: one transaction with the repositories and the outbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from egov_notary.adapters.repository import ActRepository, NotaryRepository
from meshkit.messaging import UnitOfWork


class NotaryUnitOfWork(UnitOfWork):
    notaries: NotaryRepository
    acts: ActRepository

    def init_repositories(self, session: AsyncSession) -> None:
        self.notaries = NotaryRepository(session)
        self.acts = ActRepository(session)
