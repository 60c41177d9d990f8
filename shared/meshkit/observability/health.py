"""/health/live, /health/ready (database and Kafka reachable) and /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

ReadinessCheck = Callable[[], Awaitable[None]]


class Liveness(BaseModel):
    status: str
    service: str


class Readiness(BaseModel):
    status: str
    service: str
    checks: dict[str, str]


def health_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", response_model=Liveness, summary="The process is up")
    async def live() -> Liveness:
        return Liveness(status="up", service=service)

    @router.get(
        "/health/ready",
        response_model=Readiness,
        summary="Database and Kafka are reachable",
        responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
    )
    async def ready(request: Request) -> JSONResponse:
        checks: dict[str, ReadinessCheck] = getattr(request.app.state, "readiness_checks", {})
        results: dict[str, str] = {}

        async def run(name: str, check: ReadinessCheck) -> None:
            try:
                await asyncio.wait_for(check(), timeout=3)
                results[name] = "up"
            except Exception as exc:
                results[name] = f"down: {type(exc).__name__}"

        await asyncio.gather(*(run(n, c) for n, c in checks.items()))
        ok = all(v == "up" for v in results.values())
        body = Readiness(status="up" if ok else "down", service=service, checks=results)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
