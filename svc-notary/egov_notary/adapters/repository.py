"""Repositories: notaries and notarial acts in and out of their tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from egov_notary.adapters.orm import (
    act_number_counters,
    act_parties,
    act_signatures,
    act_steps,
    acts,
    notaries,
)
from egov_notary.domain.acts import ActStatus, ActStep, NotarialAct, Signature
from egov_notary.domain.notaries import Notary
from egov_notary.domain.terms import terms_from_content
from meshkit.errors import Conflict

_NOTARY_COLUMNS = (
    "iin",
    "full_name",
    "license_number",
    "region",
    "status",
    "status_reason",
    "registered_at",
    "updated_at",
)


class NotaryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _from_row(row: Any) -> Notary:
        return Notary(**{c: row[c] for c in _NOTARY_COLUMNS})

    async def get(self, iin: str) -> Notary | None:
        row = (
            (await self.session.execute(select(notaries).where(notaries.c.iin == iin)))
            .mappings()
            .first()
        )
        return self._from_row(row) if row else None

    async def by_license(self, license_number: str) -> Notary | None:
        row = (
            (
                await self.session.execute(
                    select(notaries).where(notaries.c.license_number == license_number)
                )
            )
            .mappings()
            .first()
        )
        return self._from_row(row) if row else None

    async def add(self, notary: Notary) -> None:
        await self.session.execute(
            insert(notaries).values(**{c: getattr(notary, c) for c in _NOTARY_COLUMNS})
        )

    async def save(self, notary: Notary) -> None:
        values = {c: getattr(notary, c) for c in _NOTARY_COLUMNS if c != "iin"}
        await self.session.execute(
            update(notaries).where(notaries.c.iin == notary.iin).values(**values)
        )

    async def list(
        self,
        *,
        region: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[Notary], int]:
        query = select(notaries)
        count = select(func.count()).select_from(notaries)
        if region:
            query = query.where(notaries.c.region == region)
            count = count.where(notaries.c.region == region)
        if status:
            query = query.where(notaries.c.status == status)
            count = count.where(notaries.c.status == status)
        rows = (
            await self.session.execute(
                query.order_by(notaries.c.region, notaries.c.full_name).limit(limit).offset(offset)
            )
        ).mappings()
        total = (await self.session.execute(count)).scalar_one()
        return [self._from_row(r) for r in rows], int(total)


class ActRepository:
    """Loads and saves the whole act aggregate; saving checks the version it was loaded at
    (optimistic locking: acts are read, then other agencies are asked, then written)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._loaded: dict[str, tuple[int, int]] = {}  # act id -> (#signatures, #steps) stored

    async def get(self, act_id: str) -> NotarialAct | None:
        row = (
            (await self.session.execute(select(acts).where(acts.c.id == act_id))).mappings().first()
        )
        return await self._load(row) if row else None

    async def get_by_number(self, number: str) -> NotarialAct | None:
        row = (
            (await self.session.execute(select(acts).where(acts.c.number == number)))
            .mappings()
            .first()
        )
        return await self._load(row) if row else None

    async def for_person(self, iin: str, *, limit: int = 100) -> list[NotarialAct]:
        """Acts where ``iin`` is the notary or a party, newest first."""
        as_party = select(act_parties.c.act_id).where(act_parties.c.iin == iin)
        rows = (
            await self.session.execute(
                select(acts)
                .where((acts.c.notary_iin == iin) | acts.c.id.in_(as_party))
                .order_by(acts.c.created_at.desc())
                .limit(limit)
            )
        ).mappings()
        return [await self._load(r) for r in list(rows)]

    async def _load(self, row: Any) -> NotarialAct:
        sigs = (
            await self.session.execute(
                select(act_signatures)
                .where(act_signatures.c.act_id == row["id"])
                .order_by(act_signatures.c.id)
            )
        ).mappings()
        signatures = [
            Signature(
                signer_iin=s["signer_iin"],
                role=s["role"],
                jws=s["jws"],
                content_sha256=s["content_sha256"],
                signed_at=s["signed_at"],
                certificate_serial=s["certificate_serial"],
                accepted_at=s["accepted_at"],
            )
            for s in sigs
        ]
        step_rows = (
            await self.session.execute(
                select(act_steps).where(act_steps.c.act_id == row["id"]).order_by(act_steps.c.seq)
            )
        ).mappings()
        steps = [
            ActStep(s["at"], s["step"], ActStatus(s["status"]), s["actor"], s["reason"])
            for s in step_rows
        ]
        act = NotarialAct(
            id=row["id"],
            notary_iin=row["notary_iin"],
            terms=terms_from_content(row["kind"], row["terms"]),
            fee_tiyn=int(row["fee_tiyn"]),
            created_at=row["created_at"],
            created_by=row["created_by"],
            status=ActStatus(row["status"]),
            status_reason=row["status_reason"],
            number=row["number"],
            verification_code=row["verification_code"],
            invoice_id=row["invoice_id"],
            checks_passed_at=row["checks_passed_at"],
            fee_paid_at=row["fee_paid_at"],
            registered_at=row["registered_at"],
            executed_at=row["executed_at"],
            rejected_at=row["rejected_at"],
            revoked_at=row["revoked_at"],
            party_names=dict(row["party_names"] or {}),
            property_address=row["property_address"],
            signatures=signatures,
            steps=steps,
            correlation_id=row["correlation_id"],
            version=int(row["version"]),
        )
        self._loaded[act.id] = (len(signatures), len(steps))
        return act

    @staticmethod
    def _values(act: NotarialAct) -> dict[str, Any]:
        return {
            "kind": act.kind,
            "notary_iin": act.notary_iin,
            "status": act.status.value,
            "status_reason": act.status_reason,
            "number": act.number,
            "verification_code": act.verification_code,
            "terms": act.terms.to_content(),
            "content_sha256": act.content_sha256,
            "fee_tiyn": act.fee_tiyn,
            "invoice_id": act.invoice_id,
            "party_names": dict(act.party_names),
            "property_address": act.property_address,
            "created_at": act.created_at,
            "created_by": act.created_by,
            "checks_passed_at": act.checks_passed_at,
            "fee_paid_at": act.fee_paid_at,
            "registered_at": act.registered_at,
            "executed_at": act.executed_at,
            "rejected_at": act.rejected_at,
            "revoked_at": act.revoked_at,
            "correlation_id": act.correlation_id,
        }

    async def add(self, act: NotarialAct) -> None:
        await self.session.execute(
            insert(acts).values(id=act.id, version=act.version, **self._values(act))
        )
        await self.session.execute(
            insert(act_parties),
            [{"act_id": act.id, "iin": p.iin, "role": p.role} for p in act.parties],
        )
        self._loaded[act.id] = (0, 0)
        await self._write_children(act)

    async def save(self, act: NotarialAct) -> None:
        result = await self.session.execute(
            update(acts)
            .where(acts.c.id == act.id, acts.c.version == act.version)
            .values(version=act.version + 1, **self._values(act))
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"act {act.id} was changed by another request meanwhile; try again",
                code="concurrent_change",
            )
        act.version += 1
        await self._write_children(act)

    async def _write_children(self, act: NotarialAct) -> None:
        n_sigs, n_steps = self._loaded.get(act.id, (0, 0))
        new_sigs: Sequence[Signature] = act.signatures[n_sigs:]
        if new_sigs:
            await self.session.execute(
                insert(act_signatures),
                [
                    {
                        "act_id": act.id,
                        "signer_iin": s.signer_iin,
                        "role": s.role,
                        "jws": s.jws,
                        "content_sha256": s.content_sha256,
                        "signed_at": s.signed_at,
                        "certificate_serial": s.certificate_serial,
                        "accepted_at": s.accepted_at,
                    }
                    for s in new_sigs
                ],
            )
        new_steps = act.steps[n_steps:]
        if new_steps:
            await self.session.execute(
                insert(act_steps),
                [
                    {
                        "act_id": act.id,
                        "seq": n_steps + i + 1,
                        "at": s.at,
                        "step": s.step,
                        "status": s.status.value,
                        "actor": s.actor,
                        "reason": s.reason,
                    }
                    for i, s in enumerate(new_steps)
                ],
            )
        self._loaded[act.id] = (len(act.signatures), len(act.steps))

    async def next_number_sequence(self, year: int) -> int:
        """The next act sequence of ``year``: one counter row per year, bumped under its row
        lock (PostgreSQL) or the database write lock (SQLite), so numbers never repeat."""
        dialect = self.session.get_bind().dialect.name
        ins = pg_insert if dialect == "postgresql" else sqlite_insert
        await self.session.execute(
            ins(act_number_counters).values(year=year, last_value=0).on_conflict_do_nothing()
        )
        result = await self.session.execute(
            update(act_number_counters)
            .where(act_number_counters.c.year == year)
            .values(last_value=act_number_counters.c.last_value + 1)
            .returning(act_number_counters.c.last_value)
        )
        return int(result.scalar_one())
