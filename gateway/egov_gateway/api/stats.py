"""The efficiency figures of e-government (DESIGN §1, §4.1): public, no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from egov_gateway.bootstrap import components_of
from egov_gateway.register.service_layer.register import OutageTotal
from egov_gateway.singlewindow.stats.domain.model import Figures
from egov_gateway.singlewindow.stats.service_layer import service
from meshkit.bounds import Instant
from meshkit.problems import PROBLEM_RESPONSES
from meshkit.service import runtime_of

router = APIRouter(prefix="/api/v1", tags=["stats"], responses=PROBLEM_RESPONSES)

Code = Annotated[str | None, Query(min_length=2, max_length=50, pattern=r"^[a-z][a-z0-9-]*$")]


class FiguresOut(BaseModel):
    applications: int = Field(description="applications submitted in the period")
    by_status: dict[str, int]
    services_rendered: int = Field(description="applications completed")
    rendered_electronic: int
    share_electronic: float | None = Field(description="0..1; null when nothing rendered")
    rendered_by_channel: dict[str, int] = Field(
        default_factory=dict,
        description="applications completed per channel: electronic (portal, api, offers "
        "accepted online) and centre (made by a public service centre operator)",
    )
    term_violations: int = Field(description="SLA (term) violations")
    term_violation_share: float | None
    satisfaction_avg: float | None = Field(description="mean rating 1..5")
    ratings_count: int
    ratings: dict[str, int] = Field(description="how many ratings of 1, 2, 3, 4, 5")
    time_to_result_median_s: float | None
    time_to_result_p90_s: float | None

    @classmethod
    def of(cls, f: Figures) -> FiguresOut:
        return cls(
            applications=f.applications,
            by_status=f.by_status,
            services_rendered=f.rendered,
            rendered_electronic=f.rendered_electronic,
            share_electronic=f.share_electronic,
            rendered_by_channel=f.rendered_by_channel or {},
            term_violations=f.term_violations,
            term_violation_share=f.term_violation_share,
            satisfaction_avg=f.satisfaction_avg,
            ratings_count=f.ratings_count,
            ratings=f.ratings,
            time_to_result_median_s=f.time_to_result_median_s,
            time_to_result_p90_s=f.time_to_result_p90_s,
        )


class OutageOut(BaseModel):
    seconds: float = Field(description="total duration of technical failures in the period")
    intervals: int


class FailuresOut(BaseModel):
    total_seconds: float = Field(description="sum over agencies")
    by_agency: dict[str, OutageOut]
    by_service: dict[str, OutageOut]


class IntegrationOut(BaseModel):
    client: str
    agency: str
    operation_id: str
    calls: int


class IntegrationsOut(BaseModel):
    used: int = Field(description="distinct agency→agency operations actually called")
    granted: int = Field(description="agency→agency operations the register allows")
    operations: list[IntegrationOut]


class StatsOut(BaseModel):
    period_from: datetime = Field(serialization_alias="from")
    period_to: datetime = Field(serialization_alias="to")
    agency: str | None
    service: str | None
    overall: FiguresOut
    by_service: dict[str, FiguresOut]
    by_agency: dict[str, FiguresOut]
    technical_failures: FailuresOut
    integrations: IntegrationsOut


def _outage(o: OutageTotal) -> OutageOut:
    return OutageOut(seconds=round(o.total_seconds, 3), intervals=len(o.intervals))


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@router.get(
    "/stats",
    response_model=StatsOut,
    response_model_by_alias=True,
    summary="Efficiency figures for a period, overall and per service/agency (public)",
)
async def stats(
    request: Request,
    from_: Annotated[
        Instant | None, Query(alias="from", description="default: 30 days ago (1900–2200)")
    ] = None,
    to: Annotated[Instant | None, Query(description="default: now (1900–2200)")] = None,
    agency: Code = None,
    service_code: Annotated[
        str | None,
        Query(alias="service", min_length=2, max_length=50, pattern=r"^[a-z][a-z0-9-]*$"),
    ] = None,
) -> StatsOut:
    end = _aware(to) if to else datetime.now(UTC)
    start = _aware(from_) if from_ else end - timedelta(days=30)
    runtime = runtime_of(request)
    register = components_of(request.app).register
    r = await service.report(
        runtime.uow_factory(),
        register,
        service.StatsQuery(start, end, agency, service_code),
    )
    return StatsOut(
        period_from=start,
        period_to=end,
        agency=agency,
        service=service_code,
        overall=FiguresOut.of(r.overall),
        by_service={k: FiguresOut.of(v) for k, v in r.by_service.items()},
        by_agency={k: FiguresOut.of(v) for k, v in r.by_agency.items()},
        technical_failures=FailuresOut(
            total_seconds=round(r.outages.total_seconds, 3),
            by_agency={o.key: _outage(o) for o in r.outages.agencies},
            by_service={o.key: _outage(o) for o in r.outages.services},
        ),
        integrations=IntegrationsOut(
            used=r.integrations.used_count,
            granted=r.integrations.granted,
            operations=[IntegrationOut(**i.__dict__) for i in r.integrations.used],
        ),
    )
