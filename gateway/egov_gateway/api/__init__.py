"""HTTP entrypoints of the gateway."""

from fastapi import APIRouter

from egov_gateway.api.admin import router as register_admin_router
from egov_gateway.api.directory import router as directory_router
from egov_gateway.api.register import router as register_router
from egov_gateway.api.wellknown import router as wellknown_router

# the register's routers come before the routed exchange's /r1 catch-all
routers: list[APIRouter] = [
    wellknown_router,
    register_router,
    directory_router,
    register_admin_router,
]
