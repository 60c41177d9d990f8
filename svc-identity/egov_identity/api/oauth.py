"""The OpenID-style issuer (public): discovery, JWKS, the OAuth2 token endpoint, revocation,
introspection and userinfo."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Header

from egov_identity.api.deps import IdentityDep
from egov_identity.api.schemas import TokenOut
from egov_identity.domain.errors import InvalidClient, InvalidGrant, InvalidScope
from egov_identity.service_layer import auth as uc
from meshkit.errors import DomainError, RuleViolation, Unauthenticated
from meshkit.problems import PROBLEM_RESPONSES, ProblemError, problem_responses, status_for

router = APIRouter(tags=["issuer"], responses=PROBLEM_RESPONSES)


def oauth_problem(exc: DomainError) -> ProblemError:
    """RFC 6749 §5.2 error codes, carried inside a problem document (``error`` member)."""
    if isinstance(exc, InvalidClient):
        status, error, headers = 401, "invalid_client", {"WWW-Authenticate": 'Basic realm="egov"'}
    elif isinstance(exc, InvalidGrant):
        status, error, headers = 400, "invalid_grant", {}
    elif isinstance(exc, InvalidScope):
        status, error, headers = 400, "invalid_scope", {}
    else:
        status, error = status_for(exc), exc.code
        headers = {}
        retry = getattr(exc, "retry_after_s", None)
        if retry is not None:
            headers["Retry-After"] = str(retry)
    return ProblemError(
        status,
        exc.detail,
        code=exc.code.replace("_", "-"),
        title=exc.title,
        headers=headers,
        extra={"error": error, "error_description": exc.detail},
    )


@router.get("/.well-known/openid-configuration", summary="Issuer metadata (public)")
async def discovery(idy: IdentityDep) -> dict[str, Any]:
    iss = idy.issuer.issuer
    return {
        "issuer": iss,
        "jwks_uri": f"{iss}/.well-known/jwks.json",
        "token_endpoint": f"{iss}/oauth/token",
        "revocation_endpoint": f"{iss}/oauth/revoke",
        "introspection_endpoint": f"{iss}/oauth/introspect",
        "userinfo_endpoint": f"{iss}/oauth/userinfo",
        "grant_types_supported": ["client_credentials", "refresh_token"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [idy.issuer.alg],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "EdDSA", "RS256"],
        "scopes_supported": sorted(
            {
                "openid",
                "profile",
                "citizen",
                "operator",
                "persons:read",
                "persons:write",
                "persons:search",
                "consents:check",
                "ca:certify",
                "mesh:route",
            }
        ),
        "claims_supported": [
            "iss",
            "aud",
            "sub",
            "kind",
            "scope",
            "sid",
            "jti",
            "iat",
            "exp",
            "amr",
            "roles",
            "agency",
            "client_id",
        ],
        "egov_citizen_login": {
            "password": f"{iss}/auth/login",
            "otp": f"{iss}/auth/otp",
            "signature_challenge": f"{iss}/auth/signature/challenge",
            "signature_answer": f"{iss}/auth/signature/answer",
            "logout": f"{iss}/auth/logout",
        },
        "egov_national_ca": {"root": f"{iss}/ca/root.pem", "verify": f"{iss}/ca/verify"},
    }


@router.get("/.well-known/jwks.json", summary="Keys that verify access tokens (public)")
async def jwks(idy: IdentityDep) -> dict[str, Any]:
    return await idy.issuer.jwks()


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    summary="OAuth2 token endpoint (public)",
    # RFC 6749 §5.2: unsupported_grant_type and invalid_request are 400s
    responses=problem_responses(400),
)
async def token(
    idy: IdentityDep,
    grant_type: Annotated[str, Form()],
    scope: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    client_assertion_type: Annotated[str | None, Form()] = None,
    client_assertion: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> TokenOut:
    try:
        if grant_type == "client_credentials":
            auth = uc.ClientAuth(
                authorization=authorization,
                client_id=client_id,
                client_secret=client_secret,
                client_assertion_type=client_assertion_type,
                client_assertion=client_assertion,
            )
            return TokenOut.of(await uc.client_credentials(idy.auth, auth, scope))
        if grant_type == "refresh_token":
            if not refresh_token:
                raise InvalidGrant("refresh_token is required")
            return TokenOut.of(await uc.refresh(idy.auth, refresh_token))
    except DomainError as exc:
        raise oauth_problem(exc) from None
    raise ProblemError(
        400,
        f"grant_type {grant_type!r} is not supported (client_credentials, refresh_token)",
        code="unsupported-grant-type",
        extra={"error": "unsupported_grant_type"},
    )


@router.post("/oauth/revoke", summary="RFC 7009 token revocation (public)")
async def revoke(
    idy: IdentityDep,
    token: Annotated[str, Form(min_length=1, max_length=5000)],
    token_type_hint: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    await uc.revoke_token(idy.auth, token)
    return {}  # 200 whatever the token was (RFC 7009 §2.2)


@router.post("/oauth/introspect", summary="RFC 7662 introspection (registered clients)")
async def introspect(
    idy: IdentityDep,
    token: Annotated[str, Form(min_length=1, max_length=5000)],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    try:
        await uc.authenticate_client(
            idy.auth,
            uc.ClientAuth(
                authorization=authorization, client_id=client_id, client_secret=client_secret
            ),
        )
    except DomainError as exc:
        raise oauth_problem(exc) from None
    return await uc.introspect(idy.auth, token)


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send the access token as Authorization: Bearer <token>")
    return token


@router.get("/oauth/userinfo", summary="Who the access token belongs to (public)")
async def userinfo(
    idy: IdentityDep, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    claims = await idy.issuer.verify(bearer(authorization))
    info: dict[str, Any] = {"sub": claims["sub"], "kind": claims.get("kind")}
    if claims.get("kind") == "operator":
        info["roles"] = claims.get("roles", [])
    if claims.get("kind") in ("citizen", "operator"):
        uow = idy.new_uow()
        async with uow:
            person = await uow.persons.get(str(claims["sub"]))
        if person is None:
            raise RuleViolation("the token names no known person")
        info.update(
            name=person.full_name,
            family_name=person.surname,
            given_name=person.given_name,
            middle_name=person.patronymic,
            birthdate=person.birth_date.isoformat(),
        )
    return info
