"""HTTP entrypoints of svc-payments."""

from fastapi import APIRouter

routers: list[APIRouter] = []
