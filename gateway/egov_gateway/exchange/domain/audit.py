"""The audit log of the routed exchange: one record per routed call (and per refusal),
chained by hashes so that editing, inserting or deleting a record is detectable.

Each gateway instance keeps its own chain (``instance_id`` + per-instance ``seq``), so
replicas never contend for one chain head; ``verify`` checks every chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

GENESIS_HASH = "0" * 64
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """What the exchange knows about a call once it is answered (not yet chained)."""

    at_us: int  # time the call arrived, microseconds since the epoch (UTC)
    request_id: str
    client: str  # agency code, "citizen", "operator" or "anonymous"
    user: str | None  # IIN on whose behalf
    subject: str | None  # the data subject (IIN/BIN/…) the operation touches
    agency: str  # the addressed agency (as asked, even when unknown)
    operation_id: str | None
    service_code: str | None
    purpose: str | None
    method: str
    path: str
    status: int
    outcome: str  # forwarded | denied | unauthenticated | rate-limited | unavailable | …
    latency_us: int
    request_sha256: str
    response_sha256: str


@dataclass(frozen=True)
class AuditRecord(AuditEntry):
    """An entry placed in a chain."""

    instance_id: str = ""
    seq: int = 0
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def canonical(self) -> bytes:
        """Deterministic serialisation of every field but ``hash`` (sorted keys, no spaces)."""
        data = {name: getattr(self, name) for name in _CHAINED_FIELDS}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def computed_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RECORD_FIELDS}

    @classmethod
    def from_row(cls, row: Any) -> AuditRecord:
        data = dict(row)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


# (plain field lists: dataclasses.asdict deep-copies, far too slow for the hot path)
ENTRY_FIELDS = tuple(f.name for f in fields(AuditEntry))
RECORD_FIELDS = tuple(f.name for f in fields(AuditRecord))
_CHAINED_FIELDS = tuple(name for name in RECORD_FIELDS if name != "hash")


@dataclass(frozen=True)
class ChainHead:
    instance_id: str
    seq: int = 0
    hash: str = GENESIS_HASH

    def append(self, entry: AuditEntry) -> AuditRecord:
        """The record that follows this head (the caller moves the head on commit)."""
        record = AuditRecord(
            **{name: getattr(entry, name) for name in ENTRY_FIELDS},
            instance_id=self.instance_id,
            seq=self.seq + 1,
            prev_hash=self.hash,
        )
        return replace(record, hash=record.computed_hash())

    def after(self, record: AuditRecord) -> ChainHead:
        return ChainHead(self.instance_id, record.seq, record.hash)


@dataclass(frozen=True)
class BrokenLink:
    instance_id: str
    seq: int
    request_id: str | None
    reason: str


class ChainVerifier:
    """Walks one instance's records in ``seq`` order; feed it pages, ask for the verdict."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.head = ChainHead(instance_id)
        self.checked = 0
        self.broken: BrokenLink | None = None

    def feed(self, records: Iterable[AuditRecord]) -> bool:
        """Check the next records; False once a broken link was found."""
        for rec in records:
            if self.broken is not None:
                return False
            self.checked += 1
            reason = None
            if rec.seq != self.head.seq + 1:
                reason = f"sequence jumps from {self.head.seq} to {rec.seq} (records missing)"
            elif rec.prev_hash != self.head.hash:
                reason = "prev_hash does not match the hash of the previous record"
            elif rec.computed_hash() != rec.hash:
                reason = "record content does not match its hash (edited)"
            if reason:
                self.broken = BrokenLink(self.instance_id, rec.seq, rec.request_id, reason)
                return False
            self.head = self.head.after(rec)
        return True

    def expect_head(self, seq: int) -> None:
        """The writer's own head: a chain shorter than it lost records at its tail."""
        if self.broken is None and self.head.seq < seq:
            self.broken = BrokenLink(
                self.instance_id,
                self.head.seq + 1,
                None,
                f"records {self.head.seq + 1}..{seq} are missing from the end of the chain",
            )
