"""Public metadata services of the Unified Register (DESIGN §4.1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from egov_gateway.api.dependencies import register_of
from egov_gateway.api.register_models import (
    AgencyList,
    AgencyOut,
    AgencyOutage,
    ClientOperation,
    ClientOperations,
    Interval,
    Lang,
    MemberHealth,
    OutagesOut,
    RegisterHealth,
    ServiceOut,
    ServiceOutage,
    ServicePage,
)
from egov_gateway.register.domain.catalogue import document_operations
from egov_gateway.register.service_layer.register import UnifiedRegister
from meshkit.bounds import Instant
from meshkit.errors import NotFound, RuleViolation, UpstreamUnavailable
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["register"])
Register = Annotated[UnifiedRegister, Depends(register_of)]
LangQ = Annotated[Lang, Query(description="language of `name`/`description`: kk, ru or en")]


@router.get(
    "/services",
    response_model=ServicePage,
    summary="Search the Unified Register of public services",
    description="`q` is what a person types, in Kazakh, Russian or English: words of the names "
    "and descriptions in any form (stemmed; case, ё/е and the Kazakh letters folded), the "
    "register's synonyms and concepts (licence/лицензия, ИИН/ЖСН, паспорт → the identity "
    "services), a typo or two forgiven. The services meeting most of its words come first, "
    "best first; without `q`, by code. Pages are `page` (from 1) of `page_size` items.",
    responses=PROBLEM_RESPONSES,
)
async def search_services(
    register: Register,
    q: Annotated[str | None, Query(max_length=200)] = None,
    agency: str | None = None,
    kind: Annotated[str | None, Query(pattern="^(simple|composite)$")] = None,
    citizen_facing: bool | None = None,
    lang: LangQ = "kk",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ServicePage:
    items, total = await register.search(
        q=q.strip() if q else None,
        agency=agency,
        kind=kind,
        citizen_facing=citizen_facing,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return ServicePage(
        items=[ServiceOut.of(s, lang) for s in items], total=total, page=page, page_size=page_size
    )


@router.get(
    "/services/{code}",
    response_model=ServiceOut,
    summary="One public service of the register",
    responses=PROBLEM_RESPONSES,
)
async def get_service(register: Register, code: str, lang: LangQ = "kk") -> ServiceOut:
    return ServiceOut.of(await register.service(code), lang)


@router.get(
    "/agencies",
    response_model=AgencyList,
    summary="Members of the exchange (agencies and their information systems)",
    responses=PROBLEM_RESPONSES,
)
async def list_agencies(register: Register, lang: LangQ = "kk") -> AgencyList:
    snap = register.snapshot
    items = [
        AgencyOut.of(m, snap, lang) for m in sorted(snap.members.values(), key=lambda m: m.code)
    ]
    return AgencyList(items=items, total=len(items))


@router.get(
    "/agencies/{code}/openapi",
    summary="The OpenAPI document an agency publishes (as last fetched by the gateway)",
    responses={
        **PROBLEM_RESPONSES,
        200: {"content": {"application/json": {}}, "description": "the OpenAPI document"},
        503: {"description": "never fetched yet: the agency has been unreachable"},
    },
)
async def agency_openapi(register: Register, code: str) -> JSONResponse:
    snap = register.snapshot
    if code not in snap.members:
        raise NotFound(f"there is no member {code!r}")
    doc = snap.documents.get(code)
    if doc is None or doc.document is None:
        raise UpstreamUnavailable(
            f"the OpenAPI document of {code} has not been fetched yet", retry_after_s=5
        )
    headers = (
        {"Last-Modified": doc.fetched_at.strftime("%a, %d %b %Y %H:%M:%S GMT")}
        if doc.fetched_at
        else {}
    )
    if doc.sha256:
        headers["ETag"] = f'"{doc.sha256}"'
    return JSONResponse(dict(doc.document), headers=headers)


@router.get(
    "/clients/{client}/operations",
    response_model=ClientOperations,
    summary="The operations a given client (an agency code, or `citizen`) may call",
    responses=PROBLEM_RESPONSES,
)
async def client_operations(
    register: Register,
    client: Annotated[str, Path(max_length=50)],
    agency: Annotated[str | None, Query(description="only this provider's operations")] = None,
) -> ClientOperations:
    if not register.client_exists(client):
        raise NotFound(f"there is no client {client!r} (a member code or 'citizen')")
    allowed = register.snapshot.allowed_operations(client)
    items = [
        ClientOperation.from_info(info, via)
        for info, via in sorted(allowed, key=lambda x: x[0].id)
        if agency is None or info.key.agency == agency
    ]
    return ClientOperations(client=client, items=items, total=len(items))


@router.get(
    "/outages",
    response_model=OutagesOut,
    response_model_by_alias=True,
    summary="Technical failures: outage intervals and totals per agency and per service",
    description="An agency is down while `GET <base_url>/health/ready` fails; a service is "
    "down while any agency it runs operations of is down. Totals are clipped to "
    "[`from`, `to`) (default: the last 30 days).",
    responses=PROBLEM_RESPONSES,
)
async def outages(
    register: Register,
    from_: Annotated[Instant | None, Query(alias="from", description="1900–2200")] = None,
    to: Annotated[Instant | None, Query(description="1900–2200")] = None,
    agency: str | None = None,
    service: str | None = None,
) -> OutagesOut:
    end = _aware(to) if to else register.clock()
    start = _aware(from_) if from_ else end - timedelta(days=30)
    if start >= end:
        raise RuleViolation("`from` must be before `to`", errors={"from": "must be before to"})
    report = await register.outage_report(start, end, agency=agency, service=service)
    return OutagesOut.model_validate(
        {
            "from": start,
            "to": end,
            "total_seconds": report.total_seconds,
            "agencies": [
                AgencyOutage(
                    agency=a.key,
                    total_seconds=a.total_seconds,
                    intervals=[Interval.of(iv) for iv in a.intervals],
                )
                for a in report.agencies
            ],
            "services": [
                ServiceOutage(
                    service_code=s.key,
                    total_seconds=s.total_seconds,
                    intervals=[Interval.of(iv) for iv in s.intervals],
                )
                for s in report.services
            ],
        }
    )


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


@router.get(
    "/register/health",
    response_model=RegisterHealth,
    summary="Each member's OpenAPI fetch state and the operations its document lacks",
    responses=PROBLEM_RESPONSES,
)
async def register_health(register: Register) -> RegisterHealth:
    snap = register.snapshot
    out: list[MemberHealth] = []
    for m in sorted(snap.members.values(), key=lambda m: m.code):
        if not m.provider:
            continue
        doc = snap.documents.get(m.code)
        document: Any = doc.document if doc else None
        out.append(
            MemberHealth(
                agency=m.code,
                status=m.status,
                document_fetched_at=doc.fetched_at if doc else None,
                last_attempt_at=doc.last_attempt_at if doc else None,
                last_error=doc.last_error if doc else None,
                operations=len(snap.operations_of(m.code)),
                published_operations=len(document_operations(document)),
                unmapped_operations=snap.unmapped_operations(m.code),
                unregistered_operations=snap.unregistered_operations(m.code),
            )
        )
    drifted, pending = register.contract_health()
    ok = not drifted and all(
        h.document_fetched_at is not None and not h.unmapped_operations for h in out
    )
    return RegisterHealth(
        version=snap.version,
        ok=ok,
        members=out,
        contract_drift=drifted,
        contract_pending=pending,
    )
