"""The registry's unit of work: one transaction, its repositories and its outbox rows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from egov_registry.adapters import orm
from egov_registry.adapters.repositories import (
    BirthActs,
    Certificates,
    Counters,
    DeathActs,
    DeathNotices,
    LegalEntities,
    Properties,
    Transfers,
)
from meshkit.idempotency import IdempotencyKeys
from meshkit.messaging import UnitOfWork


class RegistryUnitOfWork(UnitOfWork):
    births: BirthActs
    deaths: DeathActs
    death_notices: DeathNotices
    entities: LegalEntities
    properties: Properties
    transfers: Transfers
    certificates: Certificates
    counters: Counters
    idempotency: IdempotencyKeys

    def init_repositories(self, session: AsyncSession) -> None:
        self.births = BirthActs(session)
        self.deaths = DeathActs(session)
        self.death_notices = DeathNotices(session)
        self.entities = LegalEntities(session)
        self.properties = Properties(session)
        self.transfers = Transfers(session)
        self.certificates = Certificates(session)
        self.counters = Counters(session)
        self.idempotency = IdempotencyKeys(session, orm.idempotency_keys)
