"""The register's repository: members, documents, services, grants, outages (SQLAlchemy Core)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from egov_gateway.register.adapters.tables import (
    agency_outages,
    grants,
    members,
    openapi_documents,
    register_state,
    seeded_grants,
    seeded_services,
    service_outages,
    services,
)
from egov_gateway.register.domain.catalogue import StoredDocument
from egov_gateway.register.domain.model import (
    CompositeStep,
    Localized,
    Member,
    OperationKey,
    PublicService,
    SlaTerm,
)
from egov_gateway.register.domain.outages import OutageInterval
from egov_gateway.register.domain.search import (
    MIN_PREFIX,
    WEIGHTS,
    Clause,
    SearchQuery,
    index_text,
)

VERSION_KEY = "register_version"
INDEX_KEY = "search_index_version"  # the INDEX_VERSION the services' search_text was made by
REGISTER_LOCK_KEY = 7243012  # pg_advisory lock id (migrations hold 7243011)


def utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every time in the register is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    out = utc(value)
    assert out is not None
    return out


# -- row <-> domain ------------------------------------------------------------------------
def member_row(m: Member) -> dict[str, Any]:
    return {
        "code": m.code,
        "instance": m.instance,
        "member_class": m.member_class,
        "member_code": m.member_code,
        "name_kk": m.name.kk,
        "name_ru": m.name.ru,
        "name_en": m.name.en,
        "base_urls": list(m.base_urls),
        "status": m.status,
        "provider": m.provider,
        "public_prefixes": list(m.public_prefixes),
        "declared_operations": list(m.declared_operations),
    }


def member_from(row: Mapping[Any, Any]) -> Member:
    return Member(
        code=row["code"],
        instance=row["instance"],
        member_class=row["member_class"],
        member_code=row["member_code"],
        name=Localized(row["name_kk"], row["name_ru"], row["name_en"]),
        base_urls=list(row["base_urls"]),
        status=row["status"],
        provider=bool(row["provider"]),
        public_prefixes=list(row["public_prefixes"]),
        declared_operations=list(row["declared_operations"]),
    )


def step_to_json(step: CompositeStep) -> dict[str, Any]:
    return {
        "name": step.name,
        "operation": step.operation.id,
        "input": step.input,
        "completes_on": step.completes_on,
        "compensation": step.compensation.id if step.compensation else None,
        "compensation_input": step.compensation_input,
        "when": step.when,
        "completes_when": step.completes_when,
        "wait_for": step.wait_for,
        "fails_when": step.fails_when,
        "title": (
            {"kk": step.title.kk, "ru": step.title.ru, "en": step.title.en} if step.title else None
        ),
    }


def step_from_json(data: Mapping[str, Any]) -> CompositeStep:
    comp = data.get("compensation")
    return CompositeStep(
        name=data["name"],
        operation=OperationKey.parse(data["operation"]),
        input=dict(data.get("input") or {}),
        completes_on=data.get("completes_on"),
        compensation=OperationKey.parse(comp) if comp else None,
        compensation_input=dict(data.get("compensation_input") or {}),
        when=data.get("when"),
        completes_when=dict(data.get("completes_when") or {}),
        wait_for=list(data.get("wait_for") or []),
        fails_when=dict(data.get("fails_when") or {}),
        title=Localized(**data["title"]) if data.get("title") else None,
    )


def service_row(s: PublicService) -> dict[str, Any]:
    return {
        "code": s.code,
        "agency": s.agency,
        "kind": s.kind,
        "name_kk": s.name.kk,
        "name_ru": s.name.ru,
        "name_en": s.name.en,
        "description_kk": s.description.kk,
        "description_ru": s.description.ru,
        "description_en": s.description.en,
        "operations": [op.id for op in s.operations],
        "input_schema": s.input_schema,
        "fee_tiyn": s.fee_tiyn,
        "sla_amount": s.sla.amount,
        "sla_unit": s.sla.unit,
        "channels": list(s.channels),
        "citizen_facing": s.citizen_facing,
        "public": s.public,
        "subject_param": s.subject_param,
        "recipients": list(s.recipients),
        "steps": [step_to_json(st) for st in s.steps],
        "status": s.status,
        "search_text": index_text(s),
    }


def service_digest(s: PublicService) -> str:
    """What a service is, as stored: equal digests, equal definitions. The search index is
    derived, not part of it; the digest keeps the names as the register searched them before
    (case-folded code and names), so the seed ledger's digests still compare."""
    definition = {**service_row(s), "search_text": s.search_text()}
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def service_from(row: Mapping[Any, Any]) -> PublicService:
    return PublicService(
        code=row["code"],
        agency=row["agency"],
        kind=row["kind"],
        name=Localized(row["name_kk"], row["name_ru"], row["name_en"]),
        description=Localized(row["description_kk"], row["description_ru"], row["description_en"]),
        operations=[OperationKey.parse(o) for o in row["operations"]],
        input_schema=dict(row["input_schema"]),
        fee_tiyn=int(row["fee_tiyn"]),
        sla=SlaTerm(int(row["sla_amount"]), row["sla_unit"]),
        channels=list(row["channels"]),
        citizen_facing=bool(row["citizen_facing"]),
        public=bool(row["public"]),
        subject_param=row["subject_param"],
        recipients=list(row["recipients"]),
        steps=[step_from_json(st) for st in row["steps"]],
        status=row["status"],
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _term(forms: frozenset[str], where: str, whole: bool) -> ColumnElement[bool]:
    """One term of the index line found, by any of its forms: in the names (``where`` "n") or
    anywhere (""); the form begins the term, or is the whole term (``whole``, or a form shorter
    than MIN_PREFIX)."""
    head = f"% {where}:" if where else "%:"
    return or_(
        *(
            services.c.search_text.like(
                f"{head}{_like_escape(form)}{' %' if whole or len(form) < MIN_PREFIX else '%'}",
                escape="\\",
            )
            for form in sorted(forms)
        )
    )


def _clause(clause: Clause, where: str, whole: bool = False) -> ColumnElement[bool]:
    """A clause met: every term of one of its alternatives found, or one of its services."""
    met = [and_(*(_term(f, where, whole) for f in alt.terms)) for alt in clause.alternatives]
    if clause.services:
        met.append(services.c.code.in_(sorted(clause.services)))
    return or_(*met)


def _relevance(query: SearchQuery) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """(how many clauses a service meets, its score) as SQL expressions."""
    met: ColumnElement[int] = literal(0)
    score: ColumnElement[int] = literal(0)
    for clause in query.clauses:
        anywhere = _clause(clause, "")
        met = met + case((anywhere, 1), else_=0)
        concept = (
            [(services.c.code.in_(sorted(clause.services)), WEIGHTS["concept"])]
            if clause.services
            else []
        )
        score = score + case(
            *concept,
            (_clause(clause, "n", whole=True), WEIGHTS["name_word"]),
            (_clause(clause, "n"), WEIGHTS["name_prefix"]),
            (anywhere, WEIGHTS["description"]),
            else_=0,
        )
    return met, score


class RegisterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- several gateway replicas on one database ---------------------------------------------
    async def lock_register(self) -> None:
        """Hold the register's write lock until this transaction ends (PostgreSQL: an advisory
        transaction lock), so replicas that start together seed it one after the other."""
        if (await self.session.connection()).dialect.name == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(REGISTER_LOCK_KEY)))

    # -- version (other gateway instances reload when it moves) ------------------------------
    async def version(self) -> int:
        value = await self.session.scalar(
            select(register_state.c.value).where(register_state.c.key == VERSION_KEY)
        )
        return int(value or 0)

    async def bump_version(self) -> int:
        result = await self.session.execute(
            update(register_state)
            .where(register_state.c.key == VERSION_KEY)
            .values(value=register_state.c.value + 1)
        )
        if getattr(result, "rowcount", 0) == 0:
            await self.session.execute(insert(register_state).values(key=VERSION_KEY, value=1))
        return await self.version()

    # -- the search index (derived from each service; rebuilt when the analyser changes) -------
    async def search_index_version(self) -> int:
        value = await self.session.scalar(
            select(register_state.c.value).where(register_state.c.key == INDEX_KEY)
        )
        return int(value or 0)

    async def reindex_services(self, version: int) -> int:
        """Rewrite every service's search_text; record the analyser's version."""
        rows = (await self.session.execute(select(services))).mappings().all()
        for row in rows:
            await self.session.execute(
                update(services)
                .where(services.c.code == row["code"])
                .values(search_text=index_text(service_from(row)))
            )
        result = await self.session.execute(
            update(register_state).where(register_state.c.key == INDEX_KEY).values(value=version)
        )
        if getattr(result, "rowcount", 0) == 0:
            await self.session.execute(insert(register_state).values(key=INDEX_KEY, value=version))
        return len(rows)

    # -- members ----------------------------------------------------------------------------
    async def members(self) -> list[Member]:
        rows = (await self.session.execute(select(members).order_by(members.c.code))).mappings()
        return [member_from(r) for r in rows]

    async def member(self, code: str) -> Member | None:
        row = (
            (await self.session.execute(select(members).where(members.c.code == code)))
            .mappings()
            .first()
        )
        return member_from(row) if row else None

    async def add_member(self, m: Member, now: datetime) -> None:
        await self.session.execute(
            insert(members).values(**member_row(m), created_at=now, updated_at=now)
        )

    async def save_member(self, m: Member, now: datetime) -> None:
        values = member_row(m)
        values.pop("code")
        await self.session.execute(
            update(members).where(members.c.code == m.code).values(**values, updated_at=now)
        )

    # -- OpenAPI documents ------------------------------------------------------------------
    async def documents(self) -> dict[str, StoredDocument]:
        rows = (await self.session.execute(select(openapi_documents))).mappings()
        return {
            r["agency"]: StoredDocument(
                agency=r["agency"],
                document=json.loads(r["document"]) if r["document"] else None,
                sha256=r["sha256"],
                fetched_at=utc(r["fetched_at"]),
                last_attempt_at=utc(r["last_attempt_at"]),
                last_error=r["last_error"],
            )
            for r in rows
        }

    async def document_sha(self, agency: str) -> str | None:
        value = await self.session.scalar(
            select(openapi_documents.c.sha256).where(openapi_documents.c.agency == agency)
        )
        return str(value) if value else None

    async def _upsert_document(self, agency: str, values: dict[str, Any]) -> None:
        result = await self.session.execute(
            update(openapi_documents).where(openapi_documents.c.agency == agency).values(**values)
        )
        if getattr(result, "rowcount", 0) == 0:
            await self.session.execute(insert(openapi_documents).values(agency=agency, **values))

    async def store_document(self, agency: str, text: str, sha256: str, at: datetime) -> None:
        await self._upsert_document(
            agency,
            {
                "document": text,
                "sha256": sha256,
                "fetched_at": at,
                "last_attempt_at": at,
                "last_error": None,
            },
        )

    async def record_fetch_failure(self, agency: str, at: datetime, error: str) -> None:
        # the last good document stays: only the attempt and its error are recorded
        await self._upsert_document(agency, {"last_attempt_at": at, "last_error": error[:2000]})

    # -- services ---------------------------------------------------------------------------
    async def services(self) -> list[PublicService]:
        rows = (await self.session.execute(select(services).order_by(services.c.code))).mappings()
        return [service_from(r) for r in rows]

    async def service(self, code: str) -> PublicService | None:
        row = (
            (await self.session.execute(select(services).where(services.c.code == code)))
            .mappings()
            .first()
        )
        return service_from(row) if row else None

    async def add_service(self, s: PublicService, now: datetime) -> None:
        await self.session.execute(
            insert(services).values(**service_row(s), created_at=now, updated_at=now)
        )

    async def save_service(self, s: PublicService, now: datetime) -> None:
        values = service_row(s)
        values.pop("code")
        await self.session.execute(
            update(services).where(services.c.code == s.code).values(**values, updated_at=now)
        )

    async def search_services(
        self,
        *,
        query: SearchQuery | None,
        agency: str | None,
        kind: str | None,
        citizen_facing: bool | None,
        include_withdrawn: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[PublicService], int]:
        """Services of the filters; with a query, those meeting the most of its clauses, best
        first (:data:`WEIGHTS`), else by code. Plain ``LIKE`` over the index line: the same on
        SQLite and PostgreSQL."""
        conditions: list[ColumnElement[bool]] = []
        if agency:
            conditions.append(services.c.agency == agency)
        if kind:
            conditions.append(services.c.kind == kind)
        if citizen_facing is not None:
            conditions.append(services.c.citizen_facing == citizen_facing)
        if not include_withdrawn:
            conditions.append(services.c.status == "active")
        where = and_(*conditions) if conditions else and_(True)
        if not query:
            total = await self.session.scalar(
                select(func.count()).select_from(services).where(where)
            )
            rows = (
                await self.session.execute(
                    select(services)
                    .where(where)
                    .order_by(services.c.code)
                    .limit(limit)
                    .offset(offset)
                )
            ).mappings()
            return [service_from(r) for r in rows], int(total or 0)
        met, score = _relevance(query)
        best = await self.session.scalar(select(func.max(met)).where(where))
        if not best:
            return [], 0
        where = and_(where, met >= best)
        total = await self.session.scalar(select(func.count()).select_from(services).where(where))
        rows = (
            await self.session.execute(
                select(services)
                .where(where)
                # equal scores: the service with fewer words of its own is the closer one
                .order_by(score.desc(), func.length(services.c.search_text), services.c.code)
                .limit(limit)
                .offset(offset)
            )
        ).mappings()
        return [service_from(r) for r in rows], int(total or 0)

    # -- grants -----------------------------------------------------------------------------
    async def grants(self, client: str | None = None) -> list[tuple[str, str]]:
        stmt = select(grants.c.client, grants.c.operation_id).order_by(
            grants.c.client, grants.c.operation_id
        )
        if client is not None:
            stmt = stmt.where(grants.c.client == client)
        return [(r[0], r[1]) for r in (await self.session.execute(stmt)).all()]

    async def add_grant(self, client: str, operation_id: str, now: datetime) -> bool:
        exists = await self.session.scalar(
            select(func.count())
            .select_from(grants)
            .where(grants.c.client == client, grants.c.operation_id == operation_id)
        )
        if exists:
            return False
        await self.session.execute(
            insert(grants).values(client=client, operation_id=operation_id, granted_at=now)
        )
        return True

    async def seeded_grants(self) -> set[tuple[str, str]]:
        rows = await self.session.execute(
            select(seeded_grants.c.client, seeded_grants.c.operation_id)
        )
        return {(r[0], r[1]) for r in rows.all()}

    async def record_seeded_grants(self, pairs: Iterable[tuple[str, str]], now: datetime) -> None:
        values = [{"client": c, "operation_id": o, "seeded_at": now} for c, o in pairs]
        if values:
            await self.session.execute(insert(seeded_grants), values)

    async def seeded_services(self) -> dict[str, str]:
        rows = await self.session.execute(select(seeded_services.c.code, seeded_services.c.digest))
        return {r[0]: r[1] for r in rows.all()}

    async def record_seeded_service(self, code: str, digest: str, now: datetime) -> None:
        await self.session.execute(delete(seeded_services).where(seeded_services.c.code == code))
        await self.session.execute(
            insert(seeded_services).values(code=code, digest=digest, seeded_at=now)
        )

    async def remove_grant(self, client: str, operation_id: str) -> bool:
        result = await self.session.execute(
            delete(grants).where(grants.c.client == client, grants.c.operation_id == operation_id)
        )
        return bool(getattr(result, "rowcount", 0))

    # -- outages ----------------------------------------------------------------------------
    async def open_agency_outages(self) -> dict[str, datetime]:
        rows = await self.session.execute(
            select(agency_outages.c.agency, agency_outages.c.started_at).where(
                agency_outages.c.ended_at.is_(None)
            )
        )
        return {r[0]: _utc(r[1]) for r in rows.all()}

    async def open_agency_outage(self, agency: str, started_at: datetime, reason: str) -> None:
        await self.session.execute(
            insert(agency_outages).values(agency=agency, started_at=started_at, reason=reason)
        )

    async def close_agency_outage(self, agency: str, ended_at: datetime) -> None:
        await self.session.execute(
            update(agency_outages)
            .where(agency_outages.c.agency == agency, agency_outages.c.ended_at.is_(None))
            .values(ended_at=ended_at)
        )

    async def open_service_outages(
        self, service_codes: Sequence[str], agency: str, started_at: datetime
    ) -> None:
        if service_codes:
            await self.session.execute(
                insert(service_outages),
                [
                    {"service_code": c, "agency": agency, "started_at": started_at}
                    for c in service_codes
                ],
            )

    async def close_service_outages(self, agency: str, ended_at: datetime) -> None:
        await self.session.execute(
            update(service_outages)
            .where(service_outages.c.agency == agency, service_outages.c.ended_at.is_(None))
            .values(ended_at=ended_at)
        )

    async def agency_outages_between(
        self, start: datetime, end: datetime, agency: str | None = None
    ) -> dict[str, list[OutageInterval]]:
        stmt = (
            select(agency_outages)
            .where(
                agency_outages.c.started_at < end,
                or_(agency_outages.c.ended_at.is_(None), agency_outages.c.ended_at > start),
            )
            .order_by(agency_outages.c.agency, agency_outages.c.started_at)
        )
        if agency:
            stmt = stmt.where(agency_outages.c.agency == agency)
        out: dict[str, list[OutageInterval]] = {}
        for r in (await self.session.execute(stmt)).mappings():
            out.setdefault(r["agency"], []).append(
                OutageInterval(_utc(r["started_at"]), utc(r["ended_at"]), r["reason"])
            )
        return out

    async def service_outages_between(
        self, start: datetime, end: datetime, service_code: str | None = None
    ) -> dict[str, list[OutageInterval]]:
        stmt = (
            select(service_outages)
            .where(
                service_outages.c.started_at < end,
                or_(service_outages.c.ended_at.is_(None), service_outages.c.ended_at > start),
            )
            .order_by(service_outages.c.service_code, service_outages.c.started_at)
        )
        if service_code:
            stmt = stmt.where(service_outages.c.service_code == service_code)
        out: dict[str, list[OutageInterval]] = {}
        for r in (await self.session.execute(stmt)).mappings():
            out.setdefault(r["service_code"], []).append(
                OutageInterval(_utc(r["started_at"]), utc(r["ended_at"]), f"{r['agency']} down")
            )
        return out
