"""The sandbox bank's own pages and API, under ``/sandbox-acquirer``.

PUBLIC (no gateway assertion): this is the bank's site, which the payer's browser or the
portal reaches directly — like a real bank's hosted payment page. It never touches payments'
tables; it talks back to payments only through signed callbacks.
"""

from __future__ import annotations

import html
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from egov_payments.bootstrap import Components
from egov_payments.sandbox_acquirer.bank import SandboxBank
from meshkit.errors import RuleViolation
from meshkit.problems import PROBLEM_RESPONSES
from meshkit.service import runtime_of

router = APIRouter(prefix="/sandbox-acquirer", tags=["sandbox acquirer (dev bank)"])


def the_bank(request: Request) -> SandboxBank:
    bank = runtime_of(request).components_as(Components).bank
    if bank is None:  # the router is only mounted when the sandbox is enabled
        raise RuleViolation("the sandbox acquirer is not enabled")
    return bank


Bank = Annotated[SandboxBank, Depends(the_bank)]


class SandboxPaymentOut(BaseModel):
    id: str
    merchant_payment_id: str
    amount_tiyn: int
    currency: Literal["KZT"] = "KZT"
    description: str
    status: str
    refunded_tiyn: int


class DecisionOut(BaseModel):
    id: str
    status: str


def _out(p: dict[str, Any]) -> SandboxPaymentOut:
    return SandboxPaymentOut(
        id=p["id"],
        merchant_payment_id=p["merchant_payment_id"],
        amount_tiyn=p["amount_tiyn"],
        description=p["description"],
        status=p["status"],
        refunded_tiyn=p["refunded_tiyn"],
    )


@router.get(
    "/pay/{payment_id}",
    response_class=HTMLResponse,
    responses={404: PROBLEM_RESPONSES[404]},
    summary="The bank's payment page (PUBLIC)",
)
async def payment_page(payment_id: str, bank: Bank) -> HTMLResponse:
    p = await bank.payment(payment_id)
    amount = f"{p['amount_tiyn'] // 100:,}.{p['amount_tiyn'] % 100:02d}".replace(",", " ")
    buttons = (
        '<button name="decision" value="approve">Approve / Төлеу</button> '
        '<button name="decision" value="decline">Decline / Бас тарту</button>'
        if p["status"] == "pending"
        else f"<p>Status: <b>{html.escape(p['status'])}</b></p>"
    )
    body = f"""<!doctype html><html lang="kk"><meta charset="utf-8">
<title>Sandbox bank — payment</title>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1>Sandbox bank</h1><p>{html.escape(p["description"])}</p>
<p style="font-size:1.5em">{amount} ₸</p>
<form method="post">{buttons}</form>
<p><small>A test bank: no real money moves.</small></p></body></html>"""
    return HTMLResponse(body)


@router.post(
    "/pay/{payment_id}",
    response_model=DecisionOut,
    responses={k: PROBLEM_RESPONSES[k] for k in (404, 409, 422)},
    summary="Approve or decline a payment (PUBLIC; form or JSON `decision`)",
)
async def decide(payment_id: str, request: Request, bank: Bank) -> Response:
    decision: str | None
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            raw = json.loads(await request.body())
        except (ValueError, RecursionError):  # (deep nesting: refused by meshkit before)
            raise RuleViolation("the body is not JSON", errors={"body": "invalid JSON"}) from None
        decision = raw.get("decision") if isinstance(raw, dict) else None
    else:
        form = await request.form()
        value = form.get("decision")
        decision = value if isinstance(value, str) else None
    status = await bank.decide(payment_id, bank.validate_decision(decision))
    if ctype.startswith("application/json"):
        return JSONResponse(DecisionOut(id=payment_id, status=status).model_dump())
    return HTMLResponse(
        f'<!doctype html><meta charset="utf-8"><p>Payment {html.escape(status)}. '
        "You may close this page.</p>"
    )


@router.get(
    "/payments/{payment_id}",
    response_model=SandboxPaymentOut,
    responses={404: PROBLEM_RESPONSES[404]},
    summary="A payment as the bank sees it (PUBLIC)",
)
async def payment_status(payment_id: str, bank: Bank) -> SandboxPaymentOut:
    return _out(await bank.payment(payment_id))


@router.post(
    "/notifications/{event_id}/redeliver",
    response_model=DecisionOut,
    responses={404: PROBLEM_RESPONSES[404]},
    summary="Send a callback again, now (PUBLIC, sandbox only: simulates a bank's duplicate)",
)
async def redeliver(event_id: str, bank: Bank) -> DecisionOut:
    status = await bank.deliver_once(event_id)
    return DecisionOut(id=event_id, status=str(status))
