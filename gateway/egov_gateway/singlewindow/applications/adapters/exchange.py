"""The engine's calls through the gateway's own routed exchange (``/x/{agency}/{path}``).

Each step is the applicant's own call: it carries a fresh mandate token (the applicant, the
application, the service; ``egov_gateway.exchange.adapters.mandate``) instead of any gateway credential,
so it passes the same pipeline as the citizen calling directly — citizen-facing operations
of that service only, the agency's assertion with ``client = citizen`` and ``user`` = the
applicant (the agency applies its citizen rules), and one audit record per call with the
applicant as the user and the application as the declared purpose.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from egov_gateway.singlewindow.applications.domain.model import StepRequest
from egov_gateway.singlewindow.applications.domain.ports import CallOutcome
from meshkit.errors import DomainError, UpstreamUnavailable
from meshkit.gateway_client import GatewayClient

_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


class MandateIssuer(Protocol):
    def __call__(self, *, applicant_iin: str, application_id: str, service_code: str) -> str: ...


class RoutedStepCaller:
    def __init__(self, client: GatewayClient, mandates: MandateIssuer) -> None:
        self.client = client
        self.mandates = mandates

    async def aclose(self) -> None:
        await self.client.aclose()

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
    ) -> CallOutcome:
        mandate = self.mandates(
            applicant_iin=on_behalf_of, application_id=application_id, service_code=service_code
        )
        headers = {
            "X-Request-Id": request_id,
            # every event the step causes, in any agency, carries the application (DESIGN §5)
            "X-Correlation-Id": application_id,
            "Authorization": f"Bearer {mandate}",
        }
        if request.method in ("POST", "PUT", "PATCH"):
            headers["Idempotency-Key"] = idempotency_key
        try:
            resp = await self.client.request(
                request.method,
                request.agency,
                request.path,
                json=request.body if request.method in ("POST", "PUT", "PATCH") else None,
                params=request.query or None,
                purpose=purpose,
                on_behalf_of=on_behalf_of,
                headers=headers,
            )
        except UpstreamUnavailable as exc:
            return CallOutcome(False, 503, retryable=True, detail=exc.detail)
        except DomainError as exc:  # no token: identity unreachable or refusing
            return CallOutcome(False, 503, retryable=True, detail=exc.detail)
        except httpx.HTTPError as exc:
            return CallOutcome(False, 503, retryable=True, detail=type(exc).__name__)
        body: Any = None
        if resp.content:
            try:
                body = resp.json()
            except ValueError:
                body = None
        if resp.status_code < 400:
            return CallOutcome(True, resp.status_code, body)
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or "")
            errors = body.get("errors")
            if isinstance(errors, dict) and errors:
                detail += " — " + "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5])
        return CallOutcome(
            False,
            resp.status_code,
            body,
            retryable=resp.status_code in _RETRYABLE,
            detail=f"{request.agency}: {detail or resp.reason_phrase}",
        )
