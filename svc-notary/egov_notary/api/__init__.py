"""HTTP entrypoints of svc-notary."""

from fastapi import APIRouter

from egov_notary.api import acts, notaries, public

routers: list[APIRouter] = [notaries.router, acts.router, public.router]
