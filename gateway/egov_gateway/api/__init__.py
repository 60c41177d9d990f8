"""HTTP entrypoints of the gateway."""

from fastapi import APIRouter

from egov_gateway.api.audit import router as audit_router
from egov_gateway.api.exchange import router as exchange_router
from egov_gateway.api.wellknown import router as wellknown_router

routers: list[APIRouter] = [wellknown_router, audit_router, exchange_router]
