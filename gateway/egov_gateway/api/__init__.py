"""HTTP entrypoints of the gateway."""

from fastapi import APIRouter

from egov_gateway.api.wellknown import router as wellknown_router

routers: list[APIRouter] = [wellknown_router]
