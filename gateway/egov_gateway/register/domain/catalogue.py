"""An immutable snapshot of the register, built once per change and read on every routed call.

Operations of a member = the operations it declared (its contract) ∪ the operations of its
last fetched OpenAPI document. Each operation carries what the exchange needs per call:
public or not, citizen-facing or not, the public service it belongs to and the parameter
naming the data subject.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from egov_gateway.exchange.domain.register_port import ResolvedOperation
from egov_gateway.register.domain.model import (
    CITIZEN,
    Member,
    OperationKey,
    PublicService,
)
from egov_gateway.register.domain.templates import (
    HTTP_METHODS,
    InvalidTemplate,
    TemplateIndex,
    param_name,
    split_path,
    template_params,
    validate_template,
)

# infrastructure endpoints every service has; they are not operations of the exchange
INFRASTRUCTURE_PREFIXES = ("/health/", "/metrics")


@dataclass(frozen=True)
class StoredDocument:
    """A member's published OpenAPI document as last fetched (kept when a fetch fails)."""

    agency: str
    document: Mapping[str, Any] | None
    sha256: str | None
    fetched_at: datetime | None
    last_attempt_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class OperationInfo:
    key: OperationKey
    public: bool
    citizen_facing: bool
    service_code: str | None
    service_codes: tuple[str, ...]
    subject_param: str | None
    declared: bool
    published: bool
    summary: str | None = None

    @property
    def id(self) -> str:
        return self.key.id


Via = Literal["grant", "public", "citizen-facing"]


def document_operations(document: Mapping[str, Any] | None) -> dict[tuple[str, str], str | None]:
    """(METHOD, template) → summary of every operation in an OpenAPI document."""
    found: dict[tuple[str, str], str | None] = {}
    if not document:
        return found
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        return found
    for raw_path, item in paths.items():
        if not isinstance(item, Mapping) or not isinstance(raw_path, str):
            continue
        if raw_path.startswith(INFRASTRUCTURE_PREFIXES):
            continue
        try:
            path = validate_template(raw_path)
        except InvalidTemplate:
            continue
        for method, op in item.items():
            if str(method).upper() in HTTP_METHODS and isinstance(op, Mapping):
                summary = op.get("summary") or op.get("operationId")
                found[(str(method).upper(), path)] = str(summary) if summary else None
    return found


def _primary_order(key: OperationKey) -> Callable[[PublicService], tuple[int, str]]:
    # a service whose *main* (first) operation this is claims it before one merely using it
    def order(service: PublicService) -> tuple[int, str]:
        return (0 if service.operations and service.operations[0] == key else 1, service.code)

    return order


def _shape(path: str) -> tuple[str, ...]:
    return tuple("{}" if param_name(seg) is not None else seg for seg in split_path(path))


def _as_declared(
    published: dict[tuple[str, str], str | None], declared: set[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """A published operation that differs from a declared one only in its parameters' names
    (``/invoices/{invoice_id}`` vs ``/invoices/{id}``) is that operation: it keeps the
    declared template, which the register's services and grants name. (Two templates of one
    shape would be two operations, and the published one — claimed by no service, granted to
    nobody — would shadow the declared one.)"""
    by_shape = {(m, _shape(p)): (m, p) for m, p in declared}
    return {by_shape.get((m, _shape(p)), (m, p)): summary for (m, p), summary in published.items()}


#: every application starts by reading the applicant's own record (once-only: the single
#: window never asks for what identity holds), so each citizen-facing service runs it
ONCE_ONLY_OPERATION = "identity:GET /persons/{iin}"


class RegisterSnapshot:
    def __init__(
        self,
        members: Iterable[Member],
        documents: Mapping[str, StoredDocument],
        services: Iterable[PublicService],
        grants: Iterable[tuple[str, str]],
        version: int = 0,
    ) -> None:
        self.version = version
        self.members: dict[str, Member] = {m.code: m for m in members}
        self.documents = dict(documents)
        self.services: dict[str, PublicService] = {s.code: s for s in services}
        self.grants: frozenset[tuple[str, str]] = frozenset(grants)
        self._by_xroad = {m.xroad_id: m.code for m in self.members.values()}

        users: dict[OperationKey, list[PublicService]] = {}
        # what each active service runs (a composite: its steps and their compensations) —
        # the bounds of a citizen's mandate to the single window for that service
        self._runs: dict[str, frozenset[str]] = {}
        citizen_ops: set[OperationKey] = set()
        for s in self.services.values():
            if s.status != "active":
                continue
            ran = set(s.operations)
            for st in s.steps:
                ran.add(st.operation)
                if st.compensation is not None:
                    ran.add(st.compensation)
            runs = {k.id for k in ran}
            if s.citizen_facing:
                runs.add(ONCE_ONLY_OPERATION)
            self._runs[s.code] = frozenset(runs)
            if s.citizen_facing:
                citizen_ops |= ran
            if s.kind != "simple":
                continue
            for op in s.operations:
                users.setdefault(op, []).append(s)

        self.operations: dict[str, dict[str, OperationInfo]] = {}
        self._indexes: dict[str, TemplateIndex[OperationInfo]] = {}
        for member in self.members.values():
            if not member.provider:
                continue
            doc = documents.get(member.code)
            declared = {(k.method, k.path) for k in member.declared_keys()}
            published = _as_declared(document_operations(doc.document if doc else None), declared)
            ops: dict[str, OperationInfo] = {}
            for method, path in sorted(declared | set(published)):
                key = OperationKey(member.code, method, path)
                claimants = sorted(users.get(key, []), key=_primary_order(key))
                primary = claimants[0] if claimants else None
                ops[key.id] = OperationInfo(
                    key=key,
                    public=member.is_public_path(path),
                    # a citizen may call what a citizen-facing service (simple or composite)
                    # runs for them; the agency's citizen rules decide on whose data
                    citizen_facing=key in citizen_ops,
                    service_code=primary.code if primary else None,
                    service_codes=tuple(s.code for s in claimants),
                    subject_param=primary.subject_param if primary else None,
                    declared=(method, path) in declared,
                    published=(method, path) in published,
                    summary=published.get((method, path)),
                )
            self.operations[member.code] = ops
            self._indexes[member.code] = TemplateIndex(
                (info.key.method, info.key.path, info) for info in ops.values()
            )

    # -- what the routed exchange asks (RegisterPort) --------------------------------------
    def resolve(
        self, agency: str, method: str, path: str, query: Mapping[str, str]
    ) -> ResolvedOperation | None:
        index = self._indexes.get(agency)
        if index is None:
            return None
        hit = index.match(method, path)
        if hit is None:
            return None
        template, info, params = hit
        member = self.members[agency]
        subject = info.subject_param
        value = None
        if subject is not None:
            value = params.get(subject) or query.get(subject)
        return ResolvedOperation(
            agency=agency,
            member_code=member.member_code,
            member_class=member.member_class,
            member_status=member.status,
            base_url=member.base_url,
            operation_id=info.key.id,
            method=info.key.method,
            path_template=template,
            path_params=params,
            service_code=info.service_code,
            citizen_facing=info.citizen_facing,
            public=info.public,
            subject_param=subject,
            subject_value=value,
            service_codes=info.service_codes,
        )

    def is_granted(self, client_agency: str, operation_id: str) -> bool:
        client = self.members.get(client_agency)
        if client is not None and client.status != "active":
            return False  # a suspended member loses its rights at once
        return (client_agency, operation_id) in self.grants

    def agency_for_xroad(
        self, instance: str, member_class: str, member_code: str, subsystem: str
    ) -> str | None:
        return self._by_xroad.get((instance, member_class, member_code, subsystem))

    def runs(self, service_code: str, operation_id: str) -> bool:
        return operation_id in self._runs.get(service_code, frozenset())

    # -- what the register's own endpoints ask ----------------------------------------------
    def knows(self, key: OperationKey) -> bool:
        return key.id in self.operations.get(key.agency, {})

    def operation(self, key: OperationKey) -> OperationInfo | None:
        return self.operations.get(key.agency, {}).get(key.id)

    def operations_of(self, agency: str) -> list[OperationInfo]:
        return list(self.operations.get(agency, {}).values())

    def all_operations(self) -> list[OperationInfo]:
        return [info for ops in self.operations.values() for info in ops.values()]

    def allowed_operations(self, client: str) -> list[tuple[OperationInfo, Via]]:
        """What ``client`` (an agency code or ``citizen``) may call, and why."""
        out: list[tuple[OperationInfo, Via]] = []
        for info in self.all_operations():
            if self.members[info.key.agency].status != "active":
                continue
            if info.public:
                out.append((info, "public"))
            elif client == CITIZEN:
                if info.citizen_facing:
                    out.append((info, "citizen-facing"))
            elif self.is_granted(client, info.id):
                out.append((info, "grant"))
        return out

    def unmapped_operations(self, agency: str) -> list[str]:
        """Operations the register relies on (declared, or used by a service) that the
        member's fetched OpenAPI document does not publish."""
        doc = self.documents.get(agency)
        if doc is None or doc.document is None:
            return []
        needed = {k for k in self.members[agency].declared_keys()}
        for s in self.services.values():
            for op in s.operations:
                if op.agency == agency:
                    needed.add(op)
        published = _as_declared(
            document_operations(doc.document), {(k.method, k.path) for k in needed}
        )
        return sorted(k.id for k in needed if (k.method, k.path) not in published)

    def unregistered_operations(self, agency: str) -> list[str]:
        """Published operations no active public service runs (informational)."""
        return sorted(
            info.id
            for info in self.operations_of(agency)
            if info.published and not info.service_codes
        )

    def path_params_of(self, key: OperationKey) -> list[str]:
        return template_params(key.path)
