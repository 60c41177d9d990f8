"""Idempotency-Key handling shared by the use cases that create things."""

from __future__ import annotations

import hashlib

from egov_registry.domain.common import Actor
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.idempotency import fingerprint

__all__ = ["derived_key", "fingerprint", "replayed"]


def derived_key(namespace: str, actor: Actor, key: str) -> str:
    """A key for a call this one makes, stable across retries of the same request."""
    digest = hashlib.sha256(f"{namespace}\n{actor.scope}\n{key}".encode()).hexdigest()[:40]
    return f"registry-{namespace}-{digest}"


async def replayed(
    uow: RegistryUnitOfWork, actor: Actor, operation: str, key: str, request_hash: str
) -> str | None:
    """The resource a previous request with this key created; 409 if the body differs."""
    return await uow.idempotency.replayed(actor.scope, key, request_hash, operation=operation)
