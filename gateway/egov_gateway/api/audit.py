"""Audit endpoints: operators search and verify the log; a citizen sees who touched their data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from egov_gateway.api.dependencies import authenticated
from egov_gateway.bootstrap import components_of
from egov_gateway.exchange.adapters.audit_store import AuditQuery
from egov_gateway.exchange.adapters.audit_writer import AuditWriter
from egov_gateway.exchange.domain.access import ANONYMOUS_CLIENT, client_of
from egov_gateway.exchange.domain.audit import AuditRecord
from egov_gateway.exchange.service_layer import audit as service
from egov_gateway.exchange.service_layer.security_audit import record_refusal
from meshkit.auth.principal import Principal
from meshkit.auth.roles import AUDITOR
from meshkit.errors import PermissionDenied, Unauthenticated
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["audit"], responses=PROBLEM_RESPONSES)


class AuditRecordOut(BaseModel):
    instance_id: str = Field(description="the gateway instance whose chain holds the record")
    seq: int = Field(description="position in that instance's chain")
    time: datetime
    request_id: str
    client: str = Field(description="agency code, citizen, operator or anonymous")
    user: str | None = Field(description="IIN of the person on whose behalf")
    subject: str | None = Field(description="the data subject (IIN/BIN/…) the operation touches")
    agency: str
    operation_id: str | None
    service_code: str | None
    purpose: str | None
    method: str
    path: str
    status: int
    outcome: str
    latency_ms: float
    request_sha256: str
    response_sha256: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, r: AuditRecord) -> AuditRecordOut:
        return cls(
            instance_id=r.instance_id,
            seq=r.seq,
            time=_time(r.at_us),
            request_id=r.request_id,
            client=r.client,
            user=r.user,
            subject=r.subject,
            agency=r.agency,
            operation_id=r.operation_id,
            service_code=r.service_code,
            purpose=r.purpose,
            method=r.method,
            path=r.path,
            status=r.status,
            outcome=r.outcome,
            latency_ms=r.latency_us / 1000,
            request_sha256=r.request_sha256,
            response_sha256=r.response_sha256,
            prev_hash=r.prev_hash,
            hash=r.hash,
        )


class AuditPage(BaseModel):
    items: list[AuditRecordOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")


class BrokenLinkOut(BaseModel):
    instance_id: str
    seq: int
    request_id: str | None
    reason: str


class VerifyOut(BaseModel):
    ok: bool
    records_checked: int
    first_broken: BrokenLinkOut | None
    chains: dict[str, int] = Field(description="records checked per gateway instance chain")


class DataAccessOut(BaseModel):
    time: datetime
    who: str = Field(description="the agency (or citizen) that made the call")
    on_behalf_of: str | None
    agency: str = Field(description="the agency whose data was accessed")
    operation: str | None
    service_code: str | None
    purpose: str | None
    status: int
    outcome: str
    request_id: str


class DataAccessPage(BaseModel):
    items: list[DataAccessOut]
    limit: int
    offset: int
    next_offset: int | None


def _time(at_us: int) -> datetime:
    return datetime.fromtimestamp(at_us / 1_000_000, tz=UTC)


def _us(t: datetime | None) -> int | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1_000_000)


async def _audited_caller(
    request: Request, allowed: Callable[[Principal], bool], refusal: str
) -> Principal:
    """The caller of an audit endpoint; a refused one is itself recorded in the audit log."""
    try:
        principal = await authenticated(request)
    except Unauthenticated:
        await record_refusal(
            _writer(request), request, 401, "unauthenticated", client=ANONYMOUS_CLIENT
        )
        raise
    if not allowed(principal):
        await record_refusal(
            _writer(request),
            request,
            403,
            "denied",
            client=client_of(principal),
            user=principal.subject if principal.kind != "agency" else None,
        )
        raise PermissionDenied(refusal)
    return principal


async def require_auditor(request: Request) -> Principal:
    """An operator with the role ``auditor`` (meshkit.auth.roles)."""
    return await _audited_caller(
        request,
        lambda p: p.has_role(AUDITOR),
        "only operators with the role 'auditor' may read the audit log",
    )


async def require_citizen(request: Request) -> Principal:
    return await _audited_caller(
        request,
        lambda p: p.kind == "citizen",
        "this is a citizen's own view: sign in as a citizen",
    )


def _writer(request: Request) -> AuditWriter:
    return components_of(request.app).audit_writer


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Search the audit log (operators with the role auditor)",
)
async def search_audit(
    request: Request,
    _: Annotated[Principal, Depends(require_auditor)],
    request_id: str | None = None,
    client: str | None = None,
    subject: str | None = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    writer = _writer(request)
    rows = await service.search(
        writer.engine,
        AuditQuery(request_id, client, subject, _us(from_), _us(to), limit + 1, offset),
    )
    more = len(rows) > limit
    return AuditPage(
        items=[AuditRecordOut.of(r) for r in rows[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
    )


@router.get(
    "/audit/verify",
    response_model=VerifyOut,
    summary="Prove the audit hash chains intact, or point at the first broken link",
)
async def verify_audit(
    request: Request, _: Annotated[Principal, Depends(require_auditor)]
) -> VerifyOut:
    writer = _writer(request)
    report = await service.verify(writer.engine, writer)
    broken = report.first_broken
    return VerifyOut(
        ok=report.ok,
        records_checked=report.records_checked,
        first_broken=BrokenLinkOut(
            instance_id=broken.instance_id,
            seq=broken.seq,
            request_id=broken.request_id,
            reason=broken.reason,
        )
        if broken
        else None,
        chains=report.chains,
    )


@router.get(
    "/me/data-access",
    response_model=DataAccessPage,
    summary="Every routed access to my data: who, when, which operation, for what purpose",
)
async def my_data_access(
    request: Request,
    citizen: Annotated[Principal, Depends(require_citizen)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DataAccessPage:
    rows = await service.data_access(
        _writer(request).engine, citizen.subject, limit=limit + 1, offset=offset
    )
    more = len(rows) > limit
    return DataAccessPage(
        items=[
            DataAccessOut(
                time=_time(r.at_us),
                who=r.client,
                on_behalf_of=r.user,
                agency=r.agency,
                operation=r.operation_id,
                service_code=r.service_code,
                purpose=r.purpose,
                status=r.status,
                outcome=r.outcome,
                request_id=r.request_id,
            )
            for r in rows[:limit]
        ],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
    )
