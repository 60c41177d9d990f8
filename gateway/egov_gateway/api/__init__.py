"""HTTP entrypoints of the gateway."""

from fastapi import APIRouter

from egov_gateway.api.admin import router as register_admin_router
from egov_gateway.api.applications import router as applications_router
from egov_gateway.api.audit import router as audit_router
from egov_gateway.api.centre import router as centre_router
from egov_gateway.api.dev import router as dev_router
from egov_gateway.api.directory import router as directory_router
from egov_gateway.api.documents import router as documents_router
from egov_gateway.api.events import router as events_router
from egov_gateway.api.exchange import router as exchange_router
from egov_gateway.api.notifications import router as notifications_router
from egov_gateway.api.offers import router as offers_router
from egov_gateway.api.register import router as register_router
from egov_gateway.api.stats import router as stats_router
from egov_gateway.api.wellknown import router as wellknown_router
from egov_gateway.portal.router import router as portal_router

# the register's routers (incl. the GovStack directory under /r1) come before the routed
# exchange's /r1 and /x catch-alls
routers: list[APIRouter] = [
    wellknown_router,
    register_router,
    directory_router,
    register_admin_router,
    audit_router,
    applications_router,
    documents_router,
    centre_router,
    offers_router,
    notifications_router,
    stats_router,
    events_router,
    exchange_router,
    # the portal's explicit paths (/, /services, /portal/*...) shadow none of the above
    portal_router,
]

#: mounted in dev mode only (the portal's development banner)
dev_routers: list[APIRouter] = [dev_router]
