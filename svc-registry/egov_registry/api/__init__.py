"""HTTP entrypoints of svc-registry."""

from fastapi import APIRouter

routers: list[APIRouter] = []
