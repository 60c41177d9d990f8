"""HTTP entrypoints of svc-licensing."""

from fastapi import APIRouter

routers: list[APIRouter] = []
