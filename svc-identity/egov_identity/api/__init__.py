"""HTTP entrypoints of svc-identity."""

from fastapi import APIRouter

routers: list[APIRouter] = []
