"""Idempotency-Key handling shared by the use cases that create things."""

from __future__ import annotations

import hashlib
from typing import Any

from egov_registry.domain.common import Actor
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.documents import canonical_json
from meshkit.errors import Conflict


def fingerprint(body: Any) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def derived_key(namespace: str, actor: Actor, key: str) -> str:
    """A key for a call this one makes, stable across retries of the same request."""
    digest = hashlib.sha256(f"{namespace}\n{actor.scope}\n{key}".encode()).hexdigest()[:40]
    return f"registry-{namespace}-{digest}"


async def replayed(
    uow: RegistryUnitOfWork, actor: Actor, operation: str, key: str, request_hash: str
) -> str | None:
    """The resource a previous request with this key created; 409 if the body differs."""
    row = await uow.idempotency.get(actor.scope, operation, key)
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        raise Conflict(
            f"Idempotency-Key {key!r} was already used for a different {operation} request",
            code="idempotency_key_reused",
        )
    return str(row["resource_id"])
