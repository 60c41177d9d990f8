"""The Unified Register at run time: use cases for operators, and the in-memory snapshot the
routed exchange reads on every call (:class:`RegisterPort`).

Every change commits to the database (with its audit event in the outbox), bumps the
register version and rebuilds the snapshot at once; other gateway instances notice the
version and rebuild theirs within ``reload_poll_s``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

import meshkit.contracts  # noqa: F401  (registers every event type: composite steps name them)
from egov_gateway.exchange.domain.register_port import ResolvedOperation
from egov_gateway.register.adapters.agencies import AgencyClient, FetchFailed
from egov_gateway.register.adapters.repository import service_digest
from egov_gateway.register.config import RegisterSettings
from egov_gateway.register.domain.catalogue import RegisterSnapshot
from egov_gateway.register.domain.contracts import service_contract_errors
from egov_gateway.register.domain.model import CITIZEN, Member, OperationKey, PublicService
from egov_gateway.register.domain.outages import OutageInterval, ProbeState, clipped_seconds
from egov_gateway.register.domain.rules import validate_service
from egov_gateway.register.domain.search import INDEX_VERSION, Catalogue, index_text, parse_query
from egov_gateway.register.search_data import search_vocabulary
from egov_gateway.register.seed import (
    seed_grants,
    seed_members,
    seed_services,
    withdrawn_grants,
)
from egov_gateway.register.service_layer.unit_of_work import RegisterUnitOfWork
from meshkit.contracts.gateway import GrantChanged, MemberChanged, PublicServiceChanged
from meshkit.errors import Conflict, NotFound, RuleViolation
from meshkit.events import registry as event_registry

if TYPE_CHECKING:
    from egov_gateway.register.adapters.repository import RegisterRepository

log = structlog.get_logger("gateway.register")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OutageTotal:
    key: str  # agency code or service code
    total_seconds: float
    intervals: list[OutageInterval]


@dataclass(frozen=True)
class OutageReport:
    start: datetime
    end: datetime
    agencies: list[OutageTotal]
    services: list[OutageTotal]

    @property
    def total_seconds(self) -> float:
        return sum(a.total_seconds for a in self.agencies)


@dataclass
class FetchResult:
    agency: str
    ok: bool
    changed: bool = False
    error: str | None = None
    unmapped: list[str] = field(default_factory=list)


class UnifiedRegister:
    """Implements :class:`egov_gateway.exchange.domain.register_port.RegisterPort`."""

    def __init__(
        self,
        uow_factory: Callable[[], RegisterUnitOfWork],
        agencies: AgencyClient,
        config: RegisterSettings,
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow_factory
        self.agencies = agencies
        self.config = config
        self.clock = clock
        self.snapshot = RegisterSnapshot([], {}, [], [])
        self._reload_lock = asyncio.Lock()
        self._probe_lock = asyncio.Lock()
        self._probes: dict[str, ProbeState] = {}
        self.search_vocabulary = search_vocabulary()
        self._catalogue: tuple[RegisterSnapshot, Catalogue] | None = None

    # -- RegisterPort: read the snapshot, never the database ----------------------------------
    async def resolve(
        self, agency: str, method: str, path: str, query: dict[str, str]
    ) -> ResolvedOperation | None:
        return self.snapshot.resolve(agency, method, path, query)

    async def is_granted(self, client_agency: str, operation_id: str) -> bool:
        return self.snapshot.is_granted(client_agency, operation_id)

    async def agency_for_xroad(
        self, instance: str, member_class: str, member_code: str, subsystem: str
    ) -> str | None:
        return self.snapshot.agency_for_xroad(instance, member_class, member_code, subsystem)

    async def runs(self, service_code: str, operation_id: str) -> bool:
        return self.snapshot.runs(service_code, operation_id)

    # -- life cycle -------------------------------------------------------------------------
    async def start(
        self, agency_urls: Mapping[str, str], explicit_urls: Iterable[str] = ()
    ) -> None:
        if self.config.seed:
            await self.seed(agency_urls, set(explicit_urls))
        await self.ensure_search_index()
        await self.reload()
        async with self._uow() as uow:
            for agency, since in (await uow.register.open_agency_outages()).items():
                # still down until a probe says otherwise
                self._probes[agency] = ProbeState(agency, down=True, first_failure_at=since)

    async def aclose(self) -> None:
        await self.agencies.aclose()

    async def ensure_search_index(self) -> None:
        """Services indexed by an earlier analyser (or before there was one) are indexed anew,
        once: replicas starting together take the register's lock."""
        async with self._uow() as uow:
            if await uow.register.search_index_version() == INDEX_VERSION:
                return
            await uow.register.lock_register()
            if await uow.register.search_index_version() == INDEX_VERSION:
                return
            count = await uow.register.reindex_services(INDEX_VERSION)
            await uow.commit()
        log.info("register.search_reindexed", services=count, version=INDEX_VERSION)

    async def seed(self, agency_urls: Mapping[str, str], explicit_urls: set[str]) -> None:
        """Insert what is missing (idempotent). A URL given explicitly in the settings wins
        over a stored one; the defaults never overwrite an operator's edit."""
        now = self.clock()
        async with self._uow() as uow:
            repo = uow.register
            await repo.lock_register()  # replicas starting together: one seeds, others see it
            existing = {m.code: m for m in await repo.members()}
            changed = False
            for member in seed_members(dict(agency_urls)):
                have = existing.get(member.code)
                if have is None:
                    await repo.add_member(member, now)
                    changed = True
                elif member.code in explicit_urls and have.base_urls != member.base_urls:
                    await repo.save_member(replace(have, base_urls=member.base_urls), now)
                    changed = True
            changed |= await self._seed_services(uow, now)
            changed |= await self._seed_grants(repo, fresh=not existing, now=now)
            if changed:
                await repo.bump_version()
            await uow.commit()  # (the ledger of offered defaults may have grown alone)

    async def _seed_services(self, uow: RegisterUnitOfWork, now: datetime) -> bool:
        """Missing services are added. A stored one the seed defines differently (a later
        release changed it) is replaced only if it is still exactly what the seed last wrote;
        an operator's edit stands. A register from before the ledger cannot tell: it keeps
        what it has and names the services that differ."""
        repo = uow.register
        stored = {s.code: s for s in await repo.services()}
        ledger = await repo.seeded_services()
        documents = {code: d.document for code, d in (await repo.documents()).items()}
        refused: dict[str, dict[str, str]] = {}
        added: list[str] = []
        updated: list[str] = []
        edited: list[str] = []
        unknown: list[str] = []
        for service in seed_services():
            digest = service_digest(service)
            have = stored.get(service.code)
            drift = service_contract_errors(service, documents)
            if drift and (have is None or service_digest(have) != digest):
                # the agency's stored document says this definition would fail: not published
                # (None = no document yet: the check runs when it arrives, see contract_health)
                refused[service.code] = drift
                continue
            if have is None:
                await repo.add_service(service, now)
                added.append(service.code)
            elif (current := service_digest(have)) == digest:
                if ledger.get(service.code) == digest:
                    continue
            elif ledger.get(service.code) == current:
                await repo.save_service(service, now)
                uow.emit(self._service_event(service, "updated"), subject=service.code)
                updated.append(service.code)
            else:
                (edited if service.code in ledger else unknown).append(service.code)
                continue
            await repo.record_seeded_service(service.code, digest, now)
        withdrawn = await self._withdraw_dropped(uow, stored, ledger, now)
        if refused:
            log.error("register.default_services_refused", drift=refused)
        if updated:
            log.info("register.default_services_updated", services=updated)
        if edited:
            log.info("register.edited_services_kept", services=edited)
        if unknown:
            log.warning(
                "register.default_services_differ",
                services=unknown,
                hint="this release defines them differently; adopt its definition with "
                "PUT /api/v1/admin/services/{code} if intended",
            )
        return bool(added or updated or withdrawn)

    async def _withdraw_dropped(
        self,
        uow: RegisterUnitOfWork,
        stored: Mapping[str, PublicService],
        ledger: Mapping[str, str],
        now: datetime,
    ) -> list[str]:
        """A service an earlier seed published that this release's data no longer lists (e.g.
        ``lc-license-design``: E-Licensing has no such type) is withdrawn, once: only if it is
        still exactly what the seed wrote (an operator's edit stands), and the ledger then
        records the withdrawn definition (an operator who reactivates it is not overruled)."""
        listed = {s.code for s in seed_services()}
        withdrawn: list[str] = []
        for code, digest in sorted(ledger.items()):
            have = stored.get(code)
            if code in listed or have is None or have.status != "active":
                continue
            if service_digest(have) != digest:
                continue  # edited by an operator since: theirs now
            gone = have.with_status("withdrawn")
            await uow.register.save_service(gone, now)
            uow.emit(self._service_event(gone, "updated"), subject=code)
            await uow.register.record_seeded_service(code, service_digest(gone), now)
            withdrawn.append(code)
        if withdrawn:
            log.warning(
                "register.default_services_withdrawn",
                services=withdrawn,
                reason="no longer in the register's data (shared/meshkit/reference/register)",
            )
        return withdrawn

    async def _seed_grants(self, repo: RegisterRepository, *, fresh: bool, now: datetime) -> bool:
        """Default grants: all of them into a new register; on an existing one only the defaults
        this register has never been offered (a later release's), so an operator's revocation
        stands. A register from before the ledger cannot tell a revoked default from a new one:
        it grants nothing and names what is missing for the operator to decide."""
        defaults = seed_grants()
        offered = await repo.seeded_grants()
        changed = False
        if fresh or offered:
            added = []
            for client, op in defaults:
                if (client, op) not in offered and await repo.add_grant(client, op, now):
                    added.append(f"{client} → {op}")
                    changed = True
            if added and not fresh:
                log.info("register.default_grants_added", grants=added)
        else:
            have = set(await repo.grants())
            missing = [f"{c} → {o}" for c, o in defaults if (c, o) not in have]
            if missing:
                log.warning(
                    "register.default_grants_missing",
                    grants=missing,
                    hint="revoked by an operator, or new in this release: "
                    "grant with POST /api/v1/admin/grants if intended",
                )
        await repo.record_seeded_grants([g for g in defaults if g not in offered], now)
        # withdrawn once per register (the ledger remembers it), so an operator's deliberate
        # re-grant stands
        withdrawn = []
        marks = []
        for client, op in withdrawn_grants():
            mark = (client, f"withdrawn:{op}")
            if mark in offered:
                continue
            marks.append(mark)
            if await repo.remove_grant(client, op):
                withdrawn.append(f"{client} → {op}")
        await repo.record_seeded_grants(marks, now)
        if withdrawn:
            changed = True
            log.warning(
                "register.default_grants_withdrawn",
                grants=withdrawn,
                reason="the single window runs citizens' steps on the citizen's own authority",
            )
        return changed

    async def reload(self) -> RegisterSnapshot:
        async with self._reload_lock:
            async with self._uow() as uow:
                repo = uow.register
                snap = RegisterSnapshot(
                    await repo.members(),
                    await repo.documents(),
                    await repo.services(),
                    await repo.grants(),
                    version=await repo.version(),
                )
            self.snapshot = snap
            return snap

    async def reload_if_changed(self) -> bool:
        async with self._uow() as uow:
            version = await uow.register.version()
        if version != self.snapshot.version:
            await self.reload()
            return True
        return False

    # -- members ----------------------------------------------------------------------------
    async def add_member(self, member: Member) -> Member:
        member.validate()
        async with self._uow() as uow:
            repo = uow.register
            if await repo.member(member.code) is not None:
                raise Conflict(f"member {member.code} already exists")
            taken = self.snapshot.agency_for_xroad(*member.xroad_id)
            if taken is not None:
                raise Conflict(f"X-Road identifier {'/'.join(member.xroad_id)} is taken")
            await repo.add_member(member, self.clock())
            uow.emit(self._member_event(member, "added", []), subject=member.code)
            await repo.bump_version()
            await uow.commit()
        await self.reload()
        return member

    async def update_member(self, code: str, changes: Mapping[str, Any]) -> Member:
        async with self._uow() as uow:
            repo = uow.register
            member = await repo.member(code)
            if member is None:
                raise NotFound(f"no member {code}")
            changed = [k for k, v in changes.items() if getattr(member, k) != v]
            updated = replace(member, **dict(changes))
            updated.validate()
            if changed:
                await repo.save_member(updated, self.clock())
                uow.emit(self._member_event(updated, "updated", changed), subject=code)
                await repo.bump_version()
                await uow.commit()
        await self.reload()
        return updated

    async def set_member_status(self, code: str, *, active: bool, reason: str | None) -> Member:
        async with self._uow() as uow:
            repo = uow.register
            member = await repo.member(code)
            if member is None:
                raise NotFound(f"no member {code}")
            if active:
                member.activate()
            else:
                member.suspend()
            await repo.save_member(member, self.clock())
            change = "activated" if active else "suspended"
            uow.emit(self._member_event(member, change, ["status"], reason), subject=code)
            await repo.bump_version()
            await uow.commit()
        await self.reload()
        return member

    @staticmethod
    def _service_event(service: PublicService, change: str) -> PublicServiceChanged:
        return PublicServiceChanged(
            service_code=service.code,
            agency=service.agency,
            kind=service.kind,
            change=change,
            status=service.status,
        )

    @staticmethod
    def _member_event(
        m: Member, change: str, fields: list[str], reason: str | None = None
    ) -> MemberChanged:
        return MemberChanged(
            member=m.code,
            member_class=m.member_class,
            member_code=m.member_code,
            change=change,
            status=m.status,
            changed_fields=fields,
            reason=reason,
        )

    # -- grants -----------------------------------------------------------------------------
    def _check_grant(self, client: str, operation_id: str) -> OperationKey:
        if client not in self.snapshot.members:
            raise RuleViolation(
                f"no member {client!r} to grant to", errors={"client": "not a member"}
            )
        key = OperationKey.parse(operation_id)
        if not self.snapshot.knows(key):
            raise RuleViolation(
                f"{operation_id} is not an operation of any member",
                errors={"operation_id": "unknown operation"},
            )
        return key

    async def grant(self, client: str, operation_id: str) -> bool:
        key = self._check_grant(client, operation_id)
        async with self._uow() as uow:
            added = await uow.register.add_grant(client, key.id, self.clock())
            if added:
                uow.emit(
                    GrantChanged(client=client, operation_id=key.id, change="granted"),
                    subject=client,
                )
                await uow.register.bump_version()
                await uow.commit()
        await self.reload()
        return added

    async def revoke(self, client: str, operation_id: str) -> bool:
        key = OperationKey.parse(operation_id)
        async with self._uow() as uow:
            removed = await uow.register.remove_grant(client, key.id)
            if removed:
                uow.emit(
                    GrantChanged(client=client, operation_id=key.id, change="revoked"),
                    subject=client,
                )
                await uow.register.bump_version()
                await uow.commit()
        await self.reload()
        return removed

    async def replace_grants(self, client: str, operation_ids: Iterable[str]) -> list[str]:
        wanted = {self._check_grant(client, op).id for op in operation_ids}
        async with self._uow() as uow:
            repo = uow.register
            have = {op for _, op in await repo.grants(client)}
            now = self.clock()
            for op in sorted(wanted - have):
                await repo.add_grant(client, op, now)
                uow.emit(
                    GrantChanged(client=client, operation_id=op, change="granted"), subject=client
                )
            for op in sorted(have - wanted):
                await repo.remove_grant(client, op)
                uow.emit(
                    GrantChanged(client=client, operation_id=op, change="revoked"), subject=client
                )
            if wanted != have:
                await repo.bump_version()
                await uow.commit()
        await self.reload()
        return sorted(wanted)

    async def grants(self, client: str | None = None) -> list[tuple[str, str]]:
        async with self._uow() as uow:
            return await uow.register.grants(client)

    # -- public services --------------------------------------------------------------------
    async def put_service(self, service: PublicService) -> bool:
        """Create or replace a service; True when it was created. A simple service whose form,
        mapped onto its operation, does not fit the request the agency published is refused
        (422, ``errors`` per field); without a fetched document the check is pending (it runs
        when the document arrives: ``contract_health``)."""
        validate_service(service, self.snapshot, [t.event_type for t in event_registry.types()])
        if service.status == "active":
            drift = service_contract_errors(service, self.documents())
            if drift:
                raise RuleViolation(
                    f"{service.code} does not fit {service.agency}'s published request",
                    errors=drift,
                )
        async with self._uow() as uow:
            repo = uow.register
            existing = await repo.service(service.code)
            now = self.clock()
            if existing is None:
                await repo.add_service(service, now)
            else:
                await repo.save_service(service, now)
            change = "added" if existing is None else "updated"
            uow.emit(self._service_event(service, change), subject=service.code)
            await repo.bump_version()
            await uow.commit()
        await self.reload()
        return existing is None

    def documents(self) -> dict[str, Mapping[str, Any] | None]:
        return {code: d.document for code, d in self.snapshot.documents.items()}

    def contract_health(self) -> tuple[dict[str, dict[str, str]], list[str]]:
        """Active simple services vs the stored documents: (drifted service → field errors,
        services whose check is pending because their agency's document is not fetched)."""
        documents = self.documents()
        drifted: dict[str, dict[str, str]] = {}
        pending: list[str] = []
        for code, service in sorted(self.snapshot.services.items()):
            if service.status != "active" or service.kind != "simple":
                continue
            errors = service_contract_errors(service, documents)
            if errors is None:
                pending.append(code)
            elif errors:
                drifted[code] = errors
        return drifted, pending

    async def service(self, code: str) -> PublicService:
        found = self.snapshot.services.get(code)
        if found is None:
            raise NotFound(f"there is no public service {code!r} in the register")
        return found

    def catalogue(self) -> Catalogue:
        """The terms of the snapshot's services and the search data (typo correction lands on
        them); built once per snapshot."""
        snap = self.snapshot
        if self._catalogue is None or self._catalogue[0] is not snap:
            lines = (index_text(s) for s in snap.services.values() if s.status == "active")
            self._catalogue = (snap, Catalogue(lines, self.search_vocabulary))
        return self._catalogue[1]

    async def search(
        self,
        *,
        q: str | None,
        agency: str | None,
        kind: str | None,
        citizen_facing: bool | None,
        limit: int,
        offset: int,
    ) -> tuple[list[PublicService], int]:
        """Services by what people type (:mod:`egov_gateway.register.domain.search`)."""
        query = parse_query(q, self.catalogue()) if q else None
        if q and not query:
            return [], 0  # nothing that is a word
        async with self._uow() as uow:
            return await uow.register.search_services(
                query=query,
                agency=agency,
                kind=kind,
                citizen_facing=citizen_facing,
                include_withdrawn=False,
                limit=limit,
                offset=offset,
            )

    def client_exists(self, client: str) -> bool:
        return client == CITIZEN or client in self.snapshot.members

    # -- OpenAPI documents ------------------------------------------------------------------
    async def refresh_openapi(self, agency: str | None = None) -> list[FetchResult]:
        """Fetch the OpenAPI of one member (or every provider); keep the last good one on failure."""
        members = [
            m
            for m in self.snapshot.members.values()
            if m.provider and (agency is None or m.code == agency)
        ]
        if agency is not None and not members:
            raise NotFound(f"no provider member {agency}")
        results = await asyncio.gather(*(self._fetch_one(m) for m in members))
        if any(r.changed for r in results) or any(not r.ok for r in results):
            await self.reload()
        if any(r.ok and r.changed for r in results):
            drifted, _ = self.contract_health()
            if drifted:
                log.error("register.contract_drift", drift=drifted)
        for r in results:
            if r.ok and r.changed:
                r.unmapped = self.snapshot.unmapped_operations(r.agency)
                if r.unmapped:
                    log.warning(
                        "register.unmapped_operations", agency=r.agency, operations=r.unmapped
                    )
        return list(results)

    async def _fetch_one(self, member: Member) -> FetchResult:
        now = self.clock()
        try:
            fetched = await self.agencies.fetch_openapi(member.base_url)
        except FetchFailed as exc:
            async with self._uow() as uow:
                await uow.register.record_fetch_failure(member.code, now, str(exc))
                await uow.commit()
            log.info("register.openapi_fetch_failed", agency=member.code, error=str(exc))
            return FetchResult(member.code, ok=False, error=str(exc))
        async with self._uow() as uow:
            repo = uow.register
            changed = await repo.document_sha(member.code) != fetched.sha256
            await repo.store_document(member.code, fetched.text, fetched.sha256, now)
            if changed:
                await repo.bump_version()
            await uow.commit()
        return FetchResult(member.code, ok=True, changed=changed)

    # -- readiness probes and outages --------------------------------------------------------
    async def probe_all(self) -> dict[str, bool]:
        """Probe every active provider once; open/close outage intervals on transitions."""
        async with self._probe_lock:
            members = [
                m for m in self.snapshot.members.values() if m.provider and m.status == "active"
            ]
            results = await asyncio.gather(
                *(self.agencies.probe_ready(m.base_url) for m in members)
            )
            now = self.clock()
            transitions: list[tuple[str, str, datetime, str | None]] = []
            for m, (ok, why) in zip(members, results, strict=True):
                state = self._probes.setdefault(m.code, ProbeState(m.code))
                t = state.observe(ok, now, self.config.probe_failures_to_open)
                if t is not None:
                    transitions.append((m.code, t[0], t[1], why))
            if transitions:
                async with self._uow() as uow:
                    repo = uow.register
                    for agency, what, at, why in transitions:
                        affected = sorted(
                            s.code
                            for s in self.snapshot.services.values()
                            if s.status == "active" and agency in s.agencies
                        )
                        if what == "opened":
                            await repo.open_agency_outage(agency, at, why or "not ready")
                            await repo.open_service_outages(affected, agency, at)
                            log.warning("register.outage_opened", agency=agency, reason=why)
                        else:
                            await repo.close_agency_outage(agency, at)
                            await repo.close_service_outages(agency, at)
                            log.info("register.outage_closed", agency=agency)
                    await uow.commit()
            return {m.code: ok for m, (ok, _) in zip(members, results, strict=True)}

    async def outage_report(
        self,
        start: datetime,
        end: datetime,
        *,
        agency: str | None = None,
        service: str | None = None,
    ) -> OutageReport:
        now = self.clock()
        async with self._uow() as uow:
            by_agency = await uow.register.agency_outages_between(start, end, agency)
            by_service = await uow.register.service_outages_between(start, end, service)
        return OutageReport(
            start=start,
            end=end,
            agencies=[
                OutageTotal(a, clipped_seconds(ivs, start, end, now), ivs)
                for a, ivs in sorted(by_agency.items())
            ],
            services=[
                OutageTotal(s, clipped_seconds(ivs, start, end, now), ivs)
                for s, ivs in sorted(by_service.items())
            ],
        )

    # -- background loops (runtime.spawn) ----------------------------------------------------
    async def openapi_loop(self) -> None:
        while True:
            try:
                results = await self.refresh_openapi()
            except Exception:
                log.exception("register.openapi_loop_failed")
                results = []
            missing = False
            for r in results:
                doc = self.snapshot.documents.get(r.agency)
                missing |= not r.ok and (doc is None or doc.document is None)
            await asyncio.sleep(
                self.config.openapi_retry_s if missing else self.config.openapi_refresh_s
            )

    async def probe_loop(self) -> None:
        while True:
            try:
                await self.probe_all()
            except Exception:
                log.exception("register.probe_loop_failed")
            await asyncio.sleep(self.config.probe_interval_s)

    async def reload_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.reload_poll_s)
            try:
                await self.reload_if_changed()
            except Exception:
                log.exception("register.reload_failed")
