"""``POST /acquirer/callbacks`` — NOT routed through the gateway: the bank calls it directly.

Its authentication is the acquirer's HMAC-SHA256 signature over ``timestamp + "." + body``
(``X-Acquirer-Timestamp``, ``X-Acquirer-Signature``) within a replay window; every callback,
accepted or not, is logged.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from egov_payments.adapters.signing import ACQUIRER_HEADER
from egov_payments.api.deps import Acquirers, ClockDep, Uows
from egov_payments.service_layer import services
from meshkit.problems import PROBLEM_RESPONSES, problem_response

router = APIRouter(tags=["acquirer callbacks (bank → payments)"])


class CallbackAck(BaseModel):
    status: Literal["processed", "already_processed"]
    event_id: str | None = None


@router.post(
    "/acquirer/callbacks",
    response_model=CallbackAck,
    responses={k: PROBLEM_RESPONSES[k] for k in (401, 409, 422)},
    summary="The acquirer reports a payment or refund (HMAC-signed; not routed)",
)
async def acquirer_callback(
    request: Request,
    uows: Uows,
    clock: ClockDep,
    acquirers: Acquirers,
    acquirer_id: Annotated[str, Header(alias=ACQUIRER_HEADER)] = "sandbox",
) -> JSONResponse:
    body = await request.body()
    answer = await services.receive_callback(
        uows,
        acquirers,
        acquirer_code=acquirer_id,
        headers=dict(request.headers),
        body=body,
        clock=clock,
    )
    if answer.status_code == 200:
        return JSONResponse(
            CallbackAck(status=answer.outcome, event_id=answer.event_id).model_dump()
        )
    return problem_response(
        request,
        answer.status_code,
        code=f"callback-{answer.outcome.replace('_', '-')}",
        title="Callback not applied",
        detail=answer.detail,
    )
