"""What the process engine needs of the routed exchange (an adapter implements it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from egov_gateway.singlewindow.applications.domain.model import StepRequest


@dataclass(frozen=True)
class CallOutcome:
    ok: bool
    status: int
    body: Any = None
    retryable: bool = False
    detail: str = ""


class StepCaller(Protocol):
    """The routed exchange, as the engine uses it: every step is the applicant's own call,
    made by the single window under the applicant's mandate for this application and service
    (never with the gateway's agency rights; see ``egov_gateway.exchange.adapters.mandate``)."""

    async def call(
        self,
        request: StepRequest,
        *,
        on_behalf_of: str,
        purpose: str,
        request_id: str,
        idempotency_key: str,
        application_id: str,
        service_code: str,
    ) -> CallOutcome: ...
