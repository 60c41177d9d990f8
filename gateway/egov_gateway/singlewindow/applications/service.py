"""Service layer of applications (filled in below; the signature is the contract for helper B)."""

from __future__ import annotations

from typing import Any

from meshkit.service import ServiceRuntime


async def submit_application(
    runtime: ServiceRuntime,
    applicant_iin: str,
    service_code: str,
    payload: dict[str, Any],
    *,
    origin: str = "portal",
) -> Any:
    """Submit an application on behalf of ``applicant_iin``; returns its view."""
    raise NotImplementedError
