"""What the routed exchange needs from the Unified Register (the register implements it).

Two parts of the gateway meet here: the register (members, services, operations, grants)
and the routed exchange (auth, ACL, assertion, forwarding, audit). The exchange asks
"what is this call?" and "may this client make it?"; it knows nothing of how the register
stores members, OpenAPI documents or grants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

MemberStatus = Literal["active", "suspended"]


@dataclass(frozen=True)
class ResolvedOperation:
    """A concrete call matched to an operation of a member's published OpenAPI."""

    agency: str  # short code = subsystem: identity, registry, licensing, payments, notary
    member_code: str  # the member's BIN (X-Road member code)
    member_class: str  # GOV | COM | ORG
    member_status: MemberStatus
    base_url: str  # where the agency listens
    operation_id: str  # stable id, e.g. "registry:POST /births"
    method: str
    path_template: str  # e.g. /persons/{iin}
    path_params: dict[str, str]
    service_code: str | None  # the public service of the register it belongs to, if any
    citizen_facing: bool  # citizens may call it (on their own behalf)
    public: bool  # no authentication needed
    subject_param: str | None  # the path/query parameter naming the data subject
    subject_value: str | None  # its value in this call (IIN/BIN/…), for the audit
    timeout_s: float = 10.0
    #: every active simple service of the register whose operations include this one — the
    #: X-Road services (``listMethods``) listing it; ``service_code`` is the first of them
    service_codes: tuple[str, ...] = ()


class RegisterPort(Protocol):
    async def resolve(
        self, agency: str, method: str, path: str, query: dict[str, str]
    ) -> ResolvedOperation | None:
        """Match ``method path`` against the agency's operations; None when unknown."""

    async def is_granted(self, client_agency: str, operation_id: str) -> bool:
        """Whether an agency may call an operation (the operator-edited ACL)."""

    async def agency_for_xroad(
        self, instance: str, member_class: str, member_code: str, subsystem: str
    ) -> str | None:
        """The agency code addressed X-Road style, None when no such member/subsystem."""

    async def runs(self, service_code: str, operation_id: str) -> bool:
        """Whether an active service runs an operation (a step or compensation of a composite):
        the bounds of a citizen's mandate to the single window for that service."""
