"""An in-memory :class:`RegisterPort`: for tests, benchmarks and bootstrapping a gateway from
a JSON file (``GATEWAY_REGISTER_FILE``) until the Unified Register is wired in.

File shape::

    {"members": [{"agency": "registry", "member_code": "<BIN>", "member_class": "GOV",
                  "base_url": "http://127.0.0.1:8002", "status": "active",
                  "operations": [{"method": "GET", "path": "/persons/{iin}",
                                  "operation_id": "identity:GET /persons/{iin}",
                                  "service_code": null, "citizen_facing": false,
                                  "public": false, "subject_param": "iin",
                                  "timeout_s": 10}]}],
     "grants": [["licensing", "registry:GET /legal-entities/{bin}"]]}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egov_gateway.exchange.domain.register_port import MemberStatus, ResolvedOperation

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class OperationSpec:
    method: str
    path: str
    operation_id: str | None = None
    service_code: str | None = None
    citizen_facing: bool = False
    public: bool = False
    subject_param: str | None = None
    timeout_s: float = 10.0
    #: other services (composites) that run this operation as a step
    run_by: tuple[str, ...] = ()


@dataclass
class MemberSpec:
    agency: str
    member_code: str
    base_url: str
    member_class: str = "GOV"
    status: MemberStatus = "active"
    operations: list[OperationSpec] = field(default_factory=list)


def _template_regex(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


class InMemoryRegister:
    def __init__(
        self,
        members: list[MemberSpec] | None = None,
        grants: set[tuple[str, str]] | None = None,
    ) -> None:
        self.members: dict[str, MemberSpec] = {}
        self.grants: set[tuple[str, str]] = set(grants or ())
        self._ops: dict[str, list[tuple[str, re.Pattern[str], OperationSpec]]] = {}
        for m in members or []:
            self.add_member(m)

    def add_member(self, member: MemberSpec) -> None:
        self.members[member.agency] = member
        # literal segments before parameters: /persons/me wins over /persons/{iin}
        ops = sorted(
            member.operations, key=lambda o: (o.path.count("{"), -len(o.path)), reverse=False
        )
        self._ops[member.agency] = [(o.method.upper(), _template_regex(o.path), o) for o in ops]

    def grant(self, client_agency: str, operation_id: str) -> None:
        self.grants.add((client_agency, operation_id))

    def revoke(self, client_agency: str, operation_id: str) -> None:
        self.grants.discard((client_agency, operation_id))

    @staticmethod
    def operation_id(agency: str, op: OperationSpec) -> str:
        return op.operation_id or f"{agency}:{op.method.upper()} {op.path}"

    def operation_ids(self) -> list[str]:
        return [self.operation_id(a, o) for a, m in self.members.items() for o in m.operations]

    async def resolve(
        self, agency: str, method: str, path: str, query: dict[str, str]
    ) -> ResolvedOperation | None:
        member = self.members.get(agency)
        if member is None:
            return None
        method = method.upper()
        for op_method, regex, op in self._ops.get(agency, []):
            if op_method != method:
                continue
            m = regex.match(path)
            if m is None:
                continue
            params = m.groupdict()
            subject = None
            if op.subject_param:
                subject = params.get(op.subject_param) or query.get(op.subject_param)
            return ResolvedOperation(
                agency=agency,
                member_code=member.member_code,
                member_class=member.member_class,
                member_status=member.status,
                base_url=member.base_url,
                operation_id=self.operation_id(agency, op),
                method=method,
                path_template=op.path,
                path_params=params,
                service_code=op.service_code,
                citizen_facing=op.citizen_facing,
                public=op.public,
                subject_param=op.subject_param,
                subject_value=subject,
                timeout_s=op.timeout_s,
            )
        return None

    async def is_granted(self, client_agency: str, operation_id: str) -> bool:
        return (client_agency, operation_id) in self.grants

    async def runs(self, service_code: str, operation_id: str) -> bool:
        """Operations name the service they belong to (``OperationSpec.service_code``)."""
        for agency, member in self.members.items():
            for op in member.operations:
                if self.operation_id(agency, op) == operation_id:
                    return op.service_code == service_code or service_code in op.run_by
        return False

    async def agency_for_xroad(
        self, instance: str, member_class: str, member_code: str, subsystem: str
    ) -> str | None:
        if instance != "KZ":
            return None
        member = self.members.get(subsystem)
        if member and member.member_class == member_class and member.member_code == member_code:
            return member.agency
        return None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InMemoryRegister:
        members = []
        for m in data.get("members", []):
            ops = [OperationSpec(**o) for o in m.get("operations", [])]
            members.append(
                MemberSpec(
                    agency=m["agency"],
                    member_code=m["member_code"],
                    base_url=m["base_url"],
                    member_class=m.get("member_class", "GOV"),
                    status=m.get("status", "active"),
                    operations=ops,
                )
            )
        grants = {(str(c), str(o)) for c, o in data.get("grants", [])}
        return cls(members, grants)

    @classmethod
    def from_file(cls, path: Path) -> InMemoryRegister:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
