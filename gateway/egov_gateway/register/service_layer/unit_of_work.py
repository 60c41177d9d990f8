from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from egov_gateway.register.adapters.repository import RegisterRepository
from meshkit.messaging import UnitOfWork


class RegisterUnitOfWork(UnitOfWork):
    register: RegisterRepository

    def init_repositories(self, session: AsyncSession) -> None:
        self.register = RegisterRepository(session)
