"""The licensing unit of work: one transaction holding repositories and outbox rows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from egov_licensing.adapters.repository import (
    ApplicationRepository,
    LicenseRepository,
    LicenseTypeRepository,
)
from meshkit.messaging import UnitOfWork


class LicensingUnitOfWork(UnitOfWork):
    license_types: LicenseTypeRepository
    applications: ApplicationRepository
    licenses: LicenseRepository

    def init_repositories(self, session: AsyncSession) -> None:
        self.license_types = LicenseTypeRepository(session)
        self.applications = ApplicationRepository(session)
        self.licenses = LicenseRepository(session)
