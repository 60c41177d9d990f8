"""The operators' admin API of the register: members, grants, services.

Every endpoint needs ``Authorization: Bearer <token>``: the access token of an operator with
the role ``register-admin`` (issued by identity, verified against its JWKS like a citizen's:
signature, issuer, audience, expiry, session not revoked) — or the static break-glass token
(``GATEWAY_ADMIN_TOKEN``, compared in constant time; dev mode: generated), which names no one.
No, malformed or invalid credentials → 401; a valid token without the role → 403. Every call
that passes is written to the audit log with who made it (client ``operator`` and the
operator's IIN, or client ``break-glass``); refusals are too. Changes take effect at once.
deploy/RUNBOOK.md, "Operator credentials".
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from egov_gateway.api.dependencies import register_of, token_verifier
from egov_gateway.api.register_models import (
    GrantIn,
    GrantList,
    GrantOut,
    GrantSet,
    MemberAdminOut,
    MemberIn,
    MemberPatch,
    RefreshResult,
    ServiceIn,
    ServiceOut,
    StatusChange,
)
from egov_gateway.bootstrap import components_of
from egov_gateway.exchange.adapters.audit_writer import AuditWriter
from egov_gateway.exchange.domain.access import ANONYMOUS_CLIENT, client_of
from egov_gateway.exchange.service_layer.security_audit import record_admin_call, record_refusal
from egov_gateway.register.domain.model import CODE_PATTERN
from egov_gateway.register.service_layer.register import UnifiedRegister
from meshkit.auth.jwks import TokenInvalid
from meshkit.auth.roles import BREAK_GLASS, REGISTER_ADMIN
from meshkit.errors import DomainError, NotFound, RuleViolation
from meshkit.problems import PROBLEM_RESPONSES, ProblemError, status_for

_bearer = HTTPBearer(
    auto_error=False,
    description="an operator's access token (role register-admin), or the break-glass token",
)


def _writer(request: Request) -> AuditWriter:
    return components_of(request.app).audit_writer


async def _refuse(
    request: Request, status: int, detail: str, *, client: str, user: str | None = None
) -> ProblemError:
    outcome = "admin-unauthenticated" if status == 401 else "admin-denied"
    await record_refusal(_writer(request), request, status, outcome, client=client, user=user)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return ProblemError(status, detail, headers=headers)


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Every refusal is a security event in the audit log (client ``anonymous`` when the
    token names no one); the per-source failure budget bounds how many a source makes
    (exchange/service_layer/source.py). Who passed is kept on the request for the audit
    record of the call (:class:`AuditedAdminRoute`)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise await _refuse(
            request,
            401,
            "the admin API needs 'Authorization: Bearer <token>': an operator's access token "
            "with the role register-admin",
            client=ANONYMOUS_CLIENT,
        )
    token = credentials.credentials
    static = components_of(request.app).admin_token
    if static is not None and hmac.compare_digest(token.encode(), static.encode()):
        request.state.admin_caller = (BREAK_GLASS, None)
        return
    try:
        principal = await token_verifier(request).principal(f"Bearer {token}")
    except TokenInvalid as exc:
        raise await _refuse(
            request, 401, f"the token is not valid: {exc.reason}", client=ANONYMOUS_CLIENT
        ) from None
    if principal is None or not principal.has_role(REGISTER_ADMIN):
        who = client_of(principal) if principal is not None else ANONYMOUS_CLIENT
        user = principal.subject if principal is not None and principal.kind != "agency" else None
        raise await _refuse(
            request,
            403,
            "this needs an operator with the role 'register-admin'",
            client=who,
            user=user,
        )
    request.state.admin_caller = ("operator", principal.subject)


class AuditedAdminRoute(APIRoute):
    """An admin endpoint whose every authorised call is written to the audit log once it is
    answered: who (the operator's IIN or break-glass), which route, the status, the digest
    of the body sent (what was changed)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def audited(request: Request) -> Response:
            started = time.perf_counter()
            try:
                response = await handler(request)
            except Exception as exc:
                await _record(request, _status_of(exc), started)
                raise
            await _record(request, response.status_code, started)
            return response

        return audited


def _status_of(exc: Exception) -> int:
    if isinstance(exc, ProblemError):
        return exc.status
    if isinstance(exc, DomainError):
        return status_for(exc)
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else 500


async def _record(request: Request, status: int, started: float) -> None:
    caller = getattr(request.state, "admin_caller", None)
    if caller is None:  # refused before: recorded as a refusal
        return
    client, user = caller
    await record_admin_call(
        _writer(request),
        request,
        status,
        client=client,
        user=user,
        body=await request.body(),
        latency_us=int((time.perf_counter() - started) * 1_000_000),
    )


router = APIRouter(
    prefix="/api/v1/admin",
    tags=["register admin"],
    dependencies=[Depends(require_admin)],
    route_class=AuditedAdminRoute,
)
Register = Annotated[UnifiedRegister, Depends(register_of)]


# -- members ----------------------------------------------------------------------------------
@router.get(
    "/members",
    response_model=list[MemberAdminOut],
    summary="Every member, in full",
    responses=PROBLEM_RESPONSES,
)
async def list_members(register: Register) -> list[MemberAdminOut]:
    snap = register.snapshot
    return [
        MemberAdminOut.full(m, snap) for m in sorted(snap.members.values(), key=lambda m: m.code)
    ]


@router.post(
    "/members",
    response_model=MemberAdminOut,
    status_code=201,
    summary="Add a member (agency, business or organisation)",
    responses=PROBLEM_RESPONSES,
)
async def add_member(register: Register, body: MemberIn) -> MemberAdminOut:
    member = await register.add_member(body.domain())
    if member.provider:
        await register.refresh_openapi(member.code)
    return MemberAdminOut.full(register.snapshot.members[member.code], register.snapshot)


@router.patch(
    "/members/{code}",
    response_model=MemberAdminOut,
    summary="Update a member's names, base URLs, X-Road id or declared operations",
    responses=PROBLEM_RESPONSES,
)
async def update_member(register: Register, code: str, body: MemberPatch) -> MemberAdminOut:
    changes = body.changes()
    if not changes:
        raise RuleViolation("nothing to change", errors={"body": "give at least one field"})
    await register.update_member(code, changes)
    if "base_urls" in changes:
        await register.refresh_openapi(code)
    return MemberAdminOut.full(register.snapshot.members[code], register.snapshot)


@router.post(
    "/members/{code}/suspend",
    response_model=MemberAdminOut,
    summary="Suspend a member: its operations and its rights stop at once",
    responses=PROBLEM_RESPONSES,
)
async def suspend_member(register: Register, code: str, body: StatusChange) -> MemberAdminOut:
    await register.set_member_status(code, active=False, reason=body.reason)
    return MemberAdminOut.full(register.snapshot.members[code], register.snapshot)


@router.post(
    "/members/{code}/activate",
    response_model=MemberAdminOut,
    summary="Re-activate a suspended member",
    responses=PROBLEM_RESPONSES,
)
async def activate_member(register: Register, code: str, body: StatusChange) -> MemberAdminOut:
    await register.set_member_status(code, active=True, reason=body.reason)
    return MemberAdminOut.full(register.snapshot.members[code], register.snapshot)


@router.post(
    "/members/{code}/refresh",
    response_model=RefreshResult,
    summary="Fetch the member's OpenAPI document now",
    responses=PROBLEM_RESPONSES,
)
async def refresh_member(register: Register, code: str) -> RefreshResult:
    r = (await register.refresh_openapi(code))[0]
    return RefreshResult(
        agency=r.agency,
        ok=r.ok,
        changed=r.changed,
        error=r.error,
        unmapped_operations=register.snapshot.unmapped_operations(code),
    )


# -- grants -----------------------------------------------------------------------------------
@router.get(
    "/grants",
    response_model=GrantList,
    summary="The agency→operation ACL",
    responses=PROBLEM_RESPONSES,
)
async def list_grants(register: Register, client: str | None = None) -> GrantList:
    items = [GrantOut(client=c, operation_id=o) for c, o in await register.grants(client)]
    return GrantList(items=items, total=len(items))


@router.post(
    "/grants",
    response_model=GrantOut,
    status_code=201,
    summary="Let an agency call an operation",
    responses=PROBLEM_RESPONSES,
)
async def add_grant(register: Register, body: GrantIn, response: Response) -> GrantOut:
    if not await register.grant(body.client, body.operation_id):
        response.status_code = 200  # already granted: nothing changed
    return GrantOut(client=body.client, operation_id=body.operation_id)


@router.delete(
    "/grants",
    status_code=204,
    summary="Revoke an agency's right to an operation",
    responses=PROBLEM_RESPONSES,
)
async def revoke_grant(
    register: Register,
    client: Annotated[str, Query()],
    operation_id: Annotated[str, Query(examples=["registry:GET /legal-entities/{bin}"])],
) -> Response:
    if not await register.revoke(client, operation_id):
        raise NotFound(f"{client} holds no grant for {operation_id}")
    return Response(status_code=204)


@router.put(
    "/grants/{client}",
    response_model=GrantList,
    summary="Replace every grant of one agency",
    responses=PROBLEM_RESPONSES,
)
async def replace_grants(register: Register, client: str, body: GrantSet) -> GrantList:
    ops = await register.replace_grants(client, body.operation_ids)
    return GrantList(items=[GrantOut(client=client, operation_id=o) for o in ops], total=len(ops))


# -- services ---------------------------------------------------------------------------------
@router.put(
    "/services/{code}",
    response_model=ServiceOut,
    summary="Create or replace a public service (status 'withdrawn' hides it)",
    responses={**PROBLEM_RESPONSES, 201: {"model": ServiceOut, "description": "created"}},
)
async def put_service(
    register: Register, code: str, body: ServiceIn, response: Response
) -> ServiceOut:
    if not CODE_PATTERN.match(code):
        raise RuleViolation(
            "bad service code", errors={"code": "lower-case letters, digits and '-'"}
        )
    created = await register.put_service(body.domain(code))
    response.status_code = 201 if created else 200
    return ServiceOut.of(await register.service(code), "kk")
