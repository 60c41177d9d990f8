"""Administration: agency clients, signing keys, sessions and operators' roles.

Every endpoint needs ``Authorization: Bearer <token>``: the access token of an operator with
the role ``identity-admin`` (signed in at ``/auth/login`` + ``/auth/otp``; ``meshkit.auth.roles``)
— or the static break-glass token (``IDENTITY_ADMIN_TOKEN``; dev mode: generated), which
names no one and is logged as ``break-glass`` (deploy/RUNBOOK.md, "Operator credentials").
Every admin call is logged with who made it (``identity.admin``: the operator's IIN).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, Field

from egov_identity.api.deps import IdentityDep
from egov_identity.api.schemas import ClientIn, ClientOut, SessionRevokeIn, SessionRevokeOut
from egov_identity.domain.tokens import OAuthClient, token_digest
from egov_identity.service_layer import auth as uc
from egov_identity.service_layer import operators
from egov_identity.service_layer.operators import BREAK_GLASS_ACTOR, AdminActor
from meshkit.auth.roles import IDENTITY_ADMIN, OPERATOR_ROLES, OperatorRole
from meshkit.errors import RuleViolation, Unauthenticated
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES

log = structlog.get_logger("identity.admin")


async def require_admin(
    request: Request, idy: IdentityDep, authorization: Annotated[str | None, Header()] = None
) -> AdminActor:
    """401 without a valid token (expired, forged, another audience, an ended session);
    403 for a valid one without the role ``identity-admin`` (citizens, agencies, operators
    with other roles)."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            "send an operator's access token: Authorization: Bearer <token> (role identity-admin)"
        )
    static = idy.settings.effective_admin_token
    if static and hmac.compare_digest(token.encode(), static.encode()):
        actor = BREAK_GLASS_ACTOR
    else:
        actor = await operators.operator_with_role(idy.auth, token, IDENTITY_ADMIN)
    # who did what: the operator's IIN (or break-glass), the call, the request id
    (log.warning if actor.break_glass else log.info)(
        "admin.call",
        method=request.method,
        path=request.url.path,
        **operators.audit_fields(actor),
    )
    return actor


Admin = Annotated[AdminActor, Depends(require_admin)]

router = APIRouter(
    prefix="/admin",
    tags=["administration"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(require_admin)],
)


@router.put("/clients/{client_id}", response_model=ClientOut, summary="Register an agency client")
async def put_client(client_id: str, body: ClientIn, idy: IdentityDep) -> ClientOut:
    generated = (
        secrets.token_urlsafe(32) if body.generate_secret and not body.client_secret else None
    )
    secret = body.client_secret or generated
    if client_id != body.client_id:
        raise RuleViolation(
            "client_id in the path and body differ", errors={"client_id": "differs"}
        )
    uow = idy.new_uow()
    async with uow:
        existing = await uow.tokens.get_client(client_id)
        await uow.tokens.put_client(
            OAuthClient(
                client_id=client_id,
                agency_code=body.agency_code,
                scopes=body.scopes,
                secret_digest=token_digest(secret)
                if secret
                else (existing.secret_digest if existing else None),
                jwks=body.jwks,
                created_at=existing.created_at if existing else idy.clock.now(),
            )
        )
        await uow.commit()
    return ClientOut(
        client_id=client_id,
        agency_code=body.agency_code,
        scopes=body.scopes,
        client_secret=generated,  # an operator's own secret is not sent back
        private_key_jwt=body.jwks is not None,
    )


@router.post("/keys/rotate", summary="Rotate the token signing key")
async def rotate(
    idy: IdentityDep,
    revoke_previous: Annotated[
        bool,
        Query(
            description="also revoke the previous key at once (tokens it signed stop "
            "working; announced as signing_key.retired) instead of keeping it published "
            "until its tokens expire"
        ),
    ] = False,
) -> dict[str, Any]:
    kid, revoked = await idy.issuer.rotate(revoke_previous=revoke_previous)
    return {"current_kid": kid, "revoked_kids": revoked, "jwks": await idy.issuer.jwks()}


@router.post(
    "/keys/{kid}/revoke",
    summary="Revoke a token signing key: out of the JWKS at once, its tokens stop working",
)
async def revoke_key(kid: Annotated[str, Path(max_length=64)], idy: IdentityDep) -> dict[str, Any]:
    key, new_kid = await idy.issuer.revoke(kid)
    jwks = await idy.issuer.jwks()
    return {
        "kid": key.kid,
        "revoked_at": key.revoked_at,
        "new_current_kid": new_kid,
        "jwks": jwks,
    }


@router.post(
    "/persons/{iin}/sessions/revoke",
    response_model=SessionRevokeOut,
    summary="End one session of a person, or every one (announced as session.revoked)",
)
async def revoke_sessions(
    iin: IIN, idy: IdentityDep, body: SessionRevokeIn | None = None
) -> SessionRevokeOut:
    session_id = body.session_id if body else None
    count = await uc.revoke_sessions_of(idy.auth, iin, session_id)
    return SessionRevokeOut(iin=iin, session_id=session_id, revoked=count)


# -- operators ------------------------------------------------------------------------------------
class OperatorRolesIn(BaseModel):
    """``PUT /admin/operators/{iin}``: exactly these roles; an empty list makes the person a
    citizen again."""

    roles: list[OperatorRole] = Field(
        max_length=len(OPERATOR_ROLES),
        description="; ".join(f"{k}: {v}" for k, v in OPERATOR_ROLES.items()),
    )


class OperatorOut(BaseModel):
    iin: str
    roles: list[str]
    has_password: bool = Field(
        description="false until the person sets one with a code sent to their phone "
        "(POST /auth/password/request, then /auth/password)"
    )
    sessions_revoked: int = Field(
        default=0, description="sessions ended by this change (tokens with the old roles)"
    )

    @classmethod
    def of(cls, view: operators.OperatorView) -> OperatorOut:
        return cls(
            iin=view.iin,
            roles=view.roles,
            has_password=view.has_password,
            sessions_revoked=view.sessions_revoked,
        )


@router.get("/operators", response_model=list[OperatorOut], summary="Every operator and roles")
async def list_operators(idy: IdentityDep) -> list[OperatorOut]:
    return [OperatorOut.of(v) for v in await operators.list_operators(idy.new_uow)]


@router.put(
    "/operators/{iin}",
    response_model=OperatorOut,
    summary="Give a person exactly these operator roles (ends their sessions on a change)",
)
async def put_operator(
    iin: IIN, body: OperatorRolesIn, idy: IdentityDep, actor: Admin
) -> OperatorOut:
    view = await operators.set_roles(idy.new_uow, iin, body.roles, by=actor, now=idy.clock.now())
    return OperatorOut.of(view)
