"""Idempotency-Key records: the table, its repository and the replay rule.

A caller (scope) that repeats a creating request with the same key gets the resource the first
request created; the same key with a different body is refused (409). Each service keeps one
table; its shape (whether an operation column is part of the key, the resource id's length)
is fixed by the service's existing migration, so it is a parameter here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from meshkit.db import UTCDateTime
from meshkit.documents import canonical_json
from meshkit.errors import Conflict

TABLE = "idempotency_keys"


def idempotency_table(
    metadata: MetaData, *, with_operation: bool = False, resource_id_length: int = 100
) -> Table:
    """``idempotency_keys``: (scope[, operation], key) → request hash, resource id."""
    keys = [Column("scope", String(100), primary_key=True)]
    if with_operation:
        keys.append(Column("operation", String(50), primary_key=True))
    return Table(
        TABLE,
        metadata,
        *keys,
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("resource_id", String(resource_id_length), nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
    )


def fingerprint(body: Any) -> str:
    """SHA-256 of the canonical JSON of a request body."""
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True)
class Recorded:
    """What the first request with a key left behind."""

    request_hash: str
    resource_id: str

    def replay(self, request_hash: str, *, key: str, what: str = "request") -> str:
        """The resource to answer with; 409 when the key came with a different body."""
        if self.request_hash != request_hash:
            raise Conflict(
                f"Idempotency-Key {key!r} was already used for a different {what}",
                code="idempotency-key-reused",
            )
        return self.resource_id


class IdempotencyKeys:
    """Repository of one service's ``idempotency_keys`` table on a unit of work's session."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self.session = session
        self.table = table
        self._with_operation = "operation" in table.c

    def _where(self, scope: str, key: str, operation: str | None) -> list[Any]:
        t = self.table
        clauses = [t.c.scope == scope, t.c.key == key]
        if self._with_operation:
            clauses.append(t.c.operation == (operation or ""))
        return clauses

    async def get(self, scope: str, key: str, *, operation: str | None = None) -> Recorded | None:
        t = self.table
        row = (
            await self.session.execute(
                select(t.c.request_hash, t.c.resource_id).where(*self._where(scope, key, operation))
            )
        ).first()
        return None if row is None else Recorded(str(row[0]), str(row[1]))

    async def add(
        self,
        scope: str,
        key: str,
        request_hash: str,
        resource_id: str,
        now: datetime,
        *,
        operation: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "scope": scope,
            "key": key,
            "request_hash": request_hash,
            "resource_id": resource_id,
            "created_at": now,
        }
        if self._with_operation:
            values["operation"] = operation or ""
        await self.session.execute(insert(self.table).values(**values))

    async def replayed(
        self, scope: str, key: str, request_hash: str, *, operation: str | None = None
    ) -> str | None:
        """The resource a previous request with this key created, if any (409 on a new body)."""
        found = await self.get(scope, key, operation=operation)
        if found is None:
            return None
        return found.replay(request_hash, key=key, what=f"{operation or 'request'} request")
