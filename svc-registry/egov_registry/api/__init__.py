"""HTTP entrypoints of svc-registry."""

from fastapi import APIRouter

from egov_registry.api.certificates import public_router
from egov_registry.api.certificates import router as certificates_router
from egov_registry.api.civil_status import router as civil_status_router
from egov_registry.api.legal_entities import router as legal_entities_router
from egov_registry.api.real_estate import router as real_estate_router

routers: list[APIRouter] = [
    civil_status_router,
    legal_entities_router,
    real_estate_router,
    certificates_router,
    public_router,
]
