"""Settings of applications and the process engine (``GATEWAY_APPLICATIONS__<NAME>``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApplicationsSettings(BaseModel):
    engine: bool = Field(default=True, description="run the process engine in this instance")
    step_retry_for_s: float = Field(
        default=120.0,
        ge=0,
        description="a step whose agency is unavailable is retried this long, then fails",
    )
    step_retry_backoff_s: float = Field(default=1.0, gt=0)
    sweep_interval_s: float = Field(
        default=5.0, gt=0, description="resume stalled processes and detect overdue ones"
    )
    call_timeout_s: float = Field(default=30.0, gt=0)
    answer_within_s: float = Field(
        default=5.0,
        ge=0,
        le=30,
        description="a submission waits this long for the agencies' first answers, so that a "
        "refusal (not yours to ask, not your child…) is answered at the door, not later",
    )
