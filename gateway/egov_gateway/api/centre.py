"""Public service centre (ЦОН) channel: an operator applies on a citizen's behalf.

The citizen consents by a one-time code sent to their own phone, which they tell the
operator; identity then issues a short-lived token *of the citizen* naming the operator as
the actor (``act``, RFC 8693; audience ``egov-gateway/centre``, see svc-identity's
``/auth/centre/consent``). Here the operator presents both their own token (Authorization)
and that consent: the application is the citizen's — submitted with the citizen's authority,
its steps run under the citizen's mandate like any application of theirs — and records where
it was made (channel ``centre``, the centre, the operator) and the consent it was made on.
Neither the operator's rights nor the gateway's own play any part.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from egov_gateway.api.dependencies import require_operator, token_verifier
from egov_gateway.singlewindow.applications.service_layer import service
from egov_gateway.singlewindow.applications.service_layer.views import ApplicationView
from meshkit.auth.jwks import TokenInvalid
from meshkit.auth.principal import Principal
from meshkit.auth.roles import CENTRE_OPERATOR
from meshkit.errors import PermissionDenied, Unauthenticated
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["public service centre"], responses=PROBLEM_RESPONSES)

#: identity issues consent tokens for this audience only: no other endpoint accepts them
CENTRE_AUDIENCE = "egov-gateway/centre"
CENTRE_SCOPE = "centre:apply"

Operator = Annotated[Principal, Depends(require_operator)]


class CentreApplicationIn(BaseModel):
    consent_token: str = Field(
        min_length=10,
        max_length=4000,
        description="the citizen's consent: identity's POST /auth/centre/consent/answer",
    )
    iin: IIN = Field(description="the citizen applied for (the one who consented)")
    service_code: str = Field(min_length=2, max_length=50)
    payload: dict[str, Any] = Field(default_factory=dict)


async def citizen_consent(request: Request, token: str, operator: Principal) -> dict[str, Any]:
    """The verified consent claims; 401 if not a valid, live consent; 403 if given to
    another operator."""
    verifier = token_verifier(request)
    try:
        claims = await verifier.jwks.verify(
            token,
            audience=CENTRE_AUDIENCE,
            issuer=verifier.issuer,
            required=("exp", "iat", "sub", "act", "jti"),
        )
    except TokenInvalid as exc:
        raise Unauthenticated(f"the citizen's consent is not valid: {exc.reason}") from None
    act = claims.get("act")
    scopes = str(claims.get("scope", "")).split()
    if claims.get("kind") != "citizen" or CENTRE_SCOPE not in scopes or not isinstance(act, dict):
        raise Unauthenticated("this is not a citizen's consent to a public service centre")
    if act.get("sub") != operator.subject or act.get("kind") != "operator":
        raise PermissionDenied("the citizen gave this consent to another operator")
    return claims


@router.post(
    "/api/v1/centre/applications",
    status_code=201,
    response_model=ApplicationView,
    summary="An operator of a public service centre applies for a citizen, with their consent",
)
async def apply_for_citizen(
    body: CentreApplicationIn, operator: Operator, request: Request
) -> ApplicationView:
    if not operator.has_role(CENTRE_OPERATOR):
        raise PermissionDenied(
            "only an operator of a public service centre may apply for a citizen"
        )
    consent = await citizen_consent(request, body.consent_token, operator)
    citizen = str(consent["sub"])
    if citizen != body.iin:
        raise PermissionDenied("the consent was given by another citizen")
    act = consent["act"]
    settings = request.app.state.runtime.settings.applications
    return await service.submit(
        service.applications_of(request.app.state.runtime),
        citizen,
        body.service_code,
        body.payload,
        origin="centre",
        answer_within_s=settings.answer_within_s,
        channel={
            "kind": "centre",
            "centre": str(act.get("centre") or ""),
            "operator": operator.subject,
            "consent_id": str(consent["jti"]),
            "consented_at": consent["iat"],
        },
    )
