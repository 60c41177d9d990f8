"""The operators' admin API of the register: members, grants, services.

Every endpoint needs ``Authorization: Bearer <GATEWAY_ADMIN_TOKEN>`` (compared in constant
time): no or malformed credentials → 401, a wrong token → 403. Changes take effect at once.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from egov_gateway.api.dependencies import register_of
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
from egov_gateway.exchange.domain.access import ANONYMOUS_CLIENT
from egov_gateway.exchange.service_layer.security_audit import record_refusal
from egov_gateway.register.domain.model import CODE_PATTERN
from egov_gateway.register.service_layer.register import UnifiedRegister
from meshkit.errors import NotFound, RuleViolation
from meshkit.problems import PROBLEM_RESPONSES, ProblemError

_bearer = HTTPBearer(auto_error=False, description="the operators' admin token")


def _writer(request: Request) -> AuditWriter:
    return components_of(request.app).audit_writer


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Every refusal is a security event in the audit log (client ``anonymous``: a wrong
    admin token names no one); the per-source failure budget bounds how many a source makes
    (exchange/service_layer/source.py)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        await record_refusal(
            _writer(request), request, 401, "admin-unauthenticated", client=ANONYMOUS_CLIENT
        )
        raise ProblemError(
            401,
            "the admin API needs 'Authorization: Bearer <admin token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = components_of(request.app).admin_token
    if expected is None:
        await record_refusal(
            _writer(request), request, 403, "admin-denied", client=ANONYMOUS_CLIENT
        )
        raise ProblemError(403, "the admin API is disabled: no GATEWAY_ADMIN_TOKEN is configured")
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        await record_refusal(
            _writer(request), request, 403, "admin-denied", client=ANONYMOUS_CLIENT
        )
        raise ProblemError(403, "this token does not grant access to the admin API")


router = APIRouter(
    prefix="/api/v1/admin", tags=["register admin"], dependencies=[Depends(require_admin)]
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
