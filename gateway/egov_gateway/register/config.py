"""Tuning of the register (``GATEWAY_REGISTER_OPTIONS__<NAME>`` in the environment)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RegisterSettings(BaseModel):
    seed: bool = Field(default=True, description="seed members, services and grants when absent")
    background: bool = Field(default=True, description="run the refresh/probe/reload loops")
    openapi_refresh_s: float = Field(default=300.0, gt=0, description="re-fetch every OpenAPI")
    openapi_retry_s: float = Field(
        default=5.0, gt=0, description="retry sooner while a member has no document yet"
    )
    probe_interval_s: float = Field(default=15.0, gt=0, description="readiness probe period")
    probe_timeout_s: float = Field(default=3.0, gt=0)
    probe_failures_to_open: int = Field(
        default=2, ge=1, description="consecutive failed probes that open an outage"
    )
    reload_poll_s: float = Field(
        default=2.0, gt=0, description="how often to look for changes made by another instance"
    )
