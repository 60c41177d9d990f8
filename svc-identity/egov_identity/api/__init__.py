"""HTTP entrypoints of svc-identity (routers only translate HTTP ↔ service layer)."""

from fastapi import APIRouter

from egov_identity.api import admin, auth, ca, consents, dev, notices, oauth, persons

routers: list[APIRouter] = [
    persons.router,
    consents.router,
    ca.router,
    oauth.router,
    auth.router,
    admin.router,
    notices.router,
]
dev_routers: list[APIRouter] = [dev.router]
