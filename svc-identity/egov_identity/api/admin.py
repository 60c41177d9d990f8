"""Administration (admin token from settings): agency clients and signing-key rotation."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query

from egov_identity.api.deps import IdentityDep
from egov_identity.api.schemas import ClientIn, ClientOut, SessionRevokeIn, SessionRevokeOut
from egov_identity.domain.tokens import OAuthClient, token_digest
from egov_identity.service_layer import auth as uc
from meshkit.errors import PermissionDenied, Unauthenticated
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES


async def require_admin(
    idy: IdentityDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    expected = idy.settings.effective_admin_token
    if not expected:
        raise PermissionDenied("administration is disabled: set IDENTITY_ADMIN_TOKEN")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthenticated("the admin token is missing or wrong")


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
        from meshkit.errors import RuleViolation

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
