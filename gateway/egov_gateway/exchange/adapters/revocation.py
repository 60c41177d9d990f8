"""Revoked sessions at the gateway: a durable table and a deny list in every replica.

svc-identity announces on ``egov.identity`` that a session ended (logout, password change,
account lock: ``kz.egov.identity.session.revoked.v1``) or that a signing key was retired
(``kz.egov.identity.signing_key.retired.v1``). Kafka hands each event to ONE replica of the
gateway's consumer group, so that replica only records it in ``gateway_revocations``
(idempotent: one row per revocation key). Every replica polls the table each
``GATEWAY_REVOCATION_POLL_S`` (default 1 s; one indexed ``seq > last`` query, nothing on the
request path) into its :class:`DenyList`, which :class:`~egov_gateway.exchange.adapters.tokens.TokenVerifier`
consults on every request, cache hits included (two dict lookups):

* a token whose ``sid`` was revoked is refused;
* a token of a person whose every session was revoked at T is refused when its ``iat`` ≤
  floor(T) (the contract in meshkit.contracts.identity; ``iat`` has one-second resolution, so
  a token minted in the very second of the revocation is refused too — sign in again a
  second later);
* a retired signing key makes each replica drop its cached keys and verified tokens.

The single window's citizen mandates (:mod:`egov_gateway.exchange.adapters.mandate`) are not sessions and
are not refused here: an application submitted before a logout runs to its end.

Rows (and deny-list entries) older than ``GATEWAY_REVOCATION_RETAIN_S`` are dropped: by then
every access token they could concern has expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    String,
    Table,
    UniqueConstraint,
    delete,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from egov_gateway.orm import metadata
from meshkit.db import ROW_ID

log = structlog.get_logger("egov_gateway.revocation")

SESSION_ENDED = "the session has ended (signed out, password changed or account locked)"

KIND_SESSION = "session"  # one session (sid)
KIND_PERSON = "person"  # every session of a person issued up to revoked_at
KIND_KEY = "key"  # a retired signing key of identity

gateway_revocations = Table(
    "gateway_revocations",
    metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    # idempotence: session:<sid> | person:<iin>:<revoked_at_us> | key:<kid>
    Column("revocation_key", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("iin", String(32), nullable=True),
    Column("session_id", String(128), nullable=True),
    Column("kid", String(128), nullable=True),
    Column("revoked_at_us", BigInteger, nullable=False),
    Column("reason", String(200), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("revocation_key", name="uq_gateway_revocations_key"),
)
Index("ix_gateway_revocations_recorded", gateway_revocations.c.recorded_at)


@dataclass(frozen=True)
class Revocation:
    kind: str
    revoked_at_us: int
    iin: str | None = None
    session_id: str | None = None
    kid: str | None = None
    reason: str | None = None

    @property
    def key(self) -> str:
        if self.kind == KIND_SESSION:
            return f"session:{self.session_id}"[:200]
        if self.kind == KIND_PERSON:
            return f"person:{self.iin}:{self.revoked_at_us}"[:200]
        return f"key:{self.kid}"[:200]


def _us(at: datetime) -> int:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1_000_000)


def session_revocation(
    iin: str, session_id: str | None, reason: str | None, revoked_at: datetime
) -> Revocation:
    if session_id:
        return Revocation(
            KIND_SESSION, _us(revoked_at), iin=iin[:32], session_id=session_id[:128], reason=reason
        )
    return Revocation(KIND_PERSON, _us(revoked_at), iin=iin[:32], reason=reason)


def key_retirement(kid: str, retired_at: datetime) -> Revocation:
    return Revocation(KIND_KEY, _us(retired_at), kid=kid[:128])


async def record(session: AsyncSession, revocation: Revocation) -> bool:
    """Insert once (a redelivered event changes nothing); True when new."""
    values: dict[str, Any] = {
        "revocation_key": revocation.key,
        "kind": revocation.kind,
        "iin": revocation.iin,
        "session_id": revocation.session_id,
        "kid": revocation.kid,
        "revoked_at_us": revocation.revoked_at_us,
        "reason": (revocation.reason or None) and (revocation.reason or "")[:200],
        "recorded_at": datetime.now(UTC),
    }
    dialect = (await session.connection()).dialect.name
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        ins(gateway_revocations)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["revocation_key"])
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


class DenyList:
    """What one replica knows is revoked; read on every request, so lookups only."""

    def __init__(self) -> None:
        self.sessions: dict[str, int] = {}  # sid → revoked_at_us
        self.people: dict[str, float] = {}  # iin → revoked_at (s): tokens with iat ≤ it
        self.last_seq = 0
        self.loaded = False

    def __bool__(self) -> bool:
        return bool(self.sessions or self.people)

    def refuses(self, subject: str, session_id: str | None, iat: float | None) -> bool:
        if session_id is not None and session_id in self.sessions:
            return True
        cutoff = self.people.get(subject)
        # a token without iat (never issued by identity) counts as old
        return cutoff is not None and (iat is None or iat <= cutoff)

    def add(self, r: Revocation) -> None:
        if r.kind == KIND_SESSION and r.session_id:
            self.sessions[r.session_id] = r.revoked_at_us
        elif r.kind == KIND_PERSON and r.iin:
            # the contract: refused when iat <= floor(revoked_at) (whole seconds)
            at = float(r.revoked_at_us // 1_000_000)
            if at > self.people.get(r.iin, -math.inf):
                self.people[r.iin] = at

    def prune(self, older_than_us: int) -> None:
        self.sessions = {s: at for s, at in self.sessions.items() if at >= older_than_us}
        cutoff = older_than_us / 1_000_000
        self.people = {i: at for i, at in self.people.items() if at >= cutoff}


def _revocation(row: Any) -> Revocation:
    return Revocation(
        kind=row.kind,
        revoked_at_us=int(row.revoked_at_us),
        iin=row.iin,
        session_id=row.session_id,
        kid=row.kid,
        reason=row.reason,
    )


async def _newer(
    conn: AsyncConnection, after: int, recent: datetime | None, limit: int
) -> list[Any]:
    """Rows past ``after``, and again those recorded lately: on PostgreSQL a row may commit
    after one with a higher ``seq`` that a poll has already seen (concurrent handlers)."""
    t = gateway_revocations.c
    newer = t.seq > after
    rows = await conn.execute(
        select(t.seq, t.kind, t.iin, t.session_id, t.kid, t.revoked_at_us, t.reason)
        .where(newer if recent is None else or_(newer, t.recorded_at >= recent))
        .order_by(t.seq)
        .limit(limit)
    )
    return list(rows)


class RevocationPoller:
    """Keeps one replica's :class:`DenyList` in step with ``gateway_revocations``."""

    BATCH = 5_000
    LOOKBACK_S = 30.0

    def __init__(
        self,
        engine: AsyncEngine,
        deny: DenyList,
        *,
        on_key_retired: Callable[[str], None],
        interval_s: float = 1.0,
        retain_s: float = 7_200.0,
    ) -> None:
        self.engine = engine
        self.deny = deny
        self.on_key_retired = on_key_retired
        self.interval_s = interval_s
        self.retain_s = retain_s
        self._task: asyncio.Task[None] | None = None
        self._last_prune = time.monotonic()
        self._seen: dict[int, float] = {}  # seq → when applied (the look-back's duplicates)
        self.failures = 0

    async def poll_once(self) -> int:
        """Apply every row recorded since the last poll; the number applied."""
        applied = 0
        first = not self.deny.loaded
        horizon_us = int((time.time() - self.retain_s) * 1_000_000)
        recent = datetime.now(UTC) - timedelta(seconds=self.LOOKBACK_S)
        async with self.engine.connect() as conn:
            after = self.deny.last_seq
            since: datetime | None = recent
            while True:
                rows = await _newer(conn, after, since, self.BATCH)
                since = None  # the look-back once; then only what follows
                for row in rows:
                    seq = int(row.seq)
                    after = max(after, seq)
                    if seq in self._seen:
                        continue
                    self._seen[seq] = time.monotonic()
                    r = _revocation(row)
                    if r.kind == KIND_KEY:
                        # at start-up the caches are empty: nothing to drop
                        if not first:
                            self.on_key_retired(r.kid or "")
                    elif r.revoked_at_us >= horizon_us:
                        self.deny.add(r)
                    applied += 1
                self.deny.last_seq = after
                if len(rows) < self.BATCH:
                    break
        # remember what was applied only as long as the look-back can return it
        if len(self._seen) > 1000:
            old = time.monotonic() - 2 * self.LOOKBACK_S
            self._seen = {s: at for s, at in self._seen.items() if at >= old}
        self.deny.loaded = True
        now = time.monotonic()
        if now - self._last_prune > 600:
            self._last_prune = now
            self.deny.prune(horizon_us)
            await self._delete_older_than(horizon_us)
        return applied

    async def _delete_older_than(self, horizon_us: int) -> None:
        # one replica's delete is as good as another's; a race only deletes nothing twice
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    delete(gateway_revocations).where(
                        gateway_revocations.c.revoked_at_us < horizon_us
                    )
                )
        except Exception as exc:  # the table is still the truth; pruning can wait
            log.warning("revocation.prune_failed", error=type(exc).__name__)

    async def start(self) -> None:
        try:
            await self.poll_once()
        except Exception as exc:
            log.error("revocation.initial_load_failed", error=str(exc)[:300])
        self._task = asyncio.create_task(self._run(), name="revocation-poller")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.poll_once()
                self.failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                if self.failures in (1, 10) or self.failures % 300 == 0:
                    log.error(
                        "revocation.poll_failed", error=str(exc)[:300], failures=self.failures
                    )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
