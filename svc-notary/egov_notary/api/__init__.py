"""HTTP entrypoints of svc-notary."""

from fastapi import APIRouter

routers: list[APIRouter] = []
