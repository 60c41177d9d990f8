"""HTTP entrypoints of svc-licensing."""

from fastapi import APIRouter

from egov_licensing.api import applications, catalogue, licenses, stats

routers: list[APIRouter] = [
    catalogue.router,
    applications.router,
    licenses.router,
    licenses.public,
    stats.router,
]
