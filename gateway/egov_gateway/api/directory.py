"""Directory services in X-Road / GovStack Information Mediator form (DESIGN §4.2a).

Shapes follow the GovStack IM BB's Directory Services API
(``api/GovStack_IM_Directory_Services_API.yaml`` of GovStackWorkingGroup/bb-information-mediator):
``restClientDetailsListType`` for ``listClients`` and ``restServiceDetailsListType`` for
``listMethods``/``allowedMethods``. X-Road services of a member are the simple public services
of the register it provides (service code = register code) plus ``api``, the member's whole API;
the routed exchange ``/r1/.../{serviceCode}/{path}`` accepts exactly these (exchange/service_layer/exchange.py).

Where that spec is explicit, so is this: ``listClients`` is served at ``/listClients`` (the
API document's path) and at ``/r1/listClients`` (spec/8-service-apis.md §8.2.1); every error in
a request — an unknown provider, a missing, malformed or unknown ``serviceCode``, an unknown
client — is 400 (the spec's only error status besides 500), as an RFC 9457 problem. The caller
of ``allowedMethods`` is ``X-GovStack-Client`` (also accepted: ``X-Road-Client`` and the
spec's test suite's ``Information-Mediator-Client``).
"""

from __future__ import annotations

import copy
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from egov_gateway.api.dependencies import register_of
from egov_gateway.exchange.domain.headers import WHOLE_API
from egov_gateway.register.domain.catalogue import OperationInfo, RegisterSnapshot
from egov_gateway.register.domain.model import Member
from egov_gateway.register.service_layer.register import UnifiedRegister
from meshkit.errors import UpstreamUnavailable
from meshkit.problems import PROBLEM_JSON, Problem, ProblemError

router = APIRouter(tags=["directory (X-Road / GovStack)"])
Register = Annotated[UnifiedRegister, Depends(register_of)]
SERVICE_VERSION = "v1"
_PROVIDER = "/r1/{instanceId}/{memberClass}/{memberCode}/{applicationCode}"


# -- shapes of the GovStack IM Directory Services API -------------------------------------
class ClientId(BaseModel):
    objectType: str = Field(description="MEMBER or APPLICATION")
    instanceId: str
    memberClass: str
    memberCode: str
    applicationCode: str | None = None


class ClientDetails(BaseModel):
    name: str
    id: ClientId


class ClientDetailsList(BaseModel):
    member: list[ClientDetails]


class Endpoint(BaseModel):
    method: str
    path: str


class EndpointList(BaseModel):
    member: list[Endpoint]


class ServiceDetails(BaseModel):
    objectType: str = "SERVICE"
    serviceType: str = "REST"
    instanceId: str
    memberClass: str
    memberCode: str
    applicationCode: str
    serviceCode: str
    serviceVersion: str
    endpointList: EndpointList


class ServiceDetailsList(BaseModel):
    member: list[ServiceDetails]


# the spec's error statuses: 400 (error in request) and 500
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "Error in request"},
}


def _bad_request(detail: str, field: str, code: str | None = None) -> ProblemError:
    return ProblemError(400, detail, errors={field: detail}, code=code)


@router.get(
    "/r1/listClients",
    response_model=ClientDetailsList,
    response_model_exclude_none=True,
    summary="Members and their applications (subsystems) in the instance",
    responses=_ERRORS,
)
@router.get(
    "/listClients",
    response_model=ClientDetailsList,
    response_model_exclude_none=True,
    summary="Members and their applications (subsystems) in the instance (the spec's path)",
    responses=_ERRORS,
    operation_id="listClients",
)
async def list_clients(
    register: Register,
    instanceId: Annotated[str | None, Query()] = None,
    lang: Annotated[str, Query(pattern="^(kk|ru|en)$")] = "en",
) -> ClientDetailsList:
    out: list[ClientDetails] = []
    for m in sorted(register.snapshot.members.values(), key=lambda m: m.code):
        if instanceId is not None and instanceId != m.instance:
            continue
        if m.status != "active":
            continue
        name = m.name.in_lang(lang)
        base = {
            "instanceId": m.instance,
            "memberClass": m.member_class,
            "memberCode": m.member_code,
        }
        out.append(ClientDetails(name=name, id=ClientId(objectType="MEMBER", **base)))
        out.append(
            ClientDetails(
                name=name,
                id=ClientId(objectType="APPLICATION", applicationCode=m.code, **base),
            )
        )
    # one MEMBER entry per member code even when it runs several applications
    seen: set[tuple[str, str, str, str | None, str]] = set()
    unique = []
    for c in out:
        key = (
            c.id.instanceId,
            c.id.memberClass,
            c.id.memberCode,
            c.id.applicationCode,
            c.id.objectType,
        )
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return ClientDetailsList(member=unique)


def _provider(
    snap: RegisterSnapshot, instance: str, member_class: str, member_code: str, app: str
) -> Member:
    code = snap.agency_for_xroad(instance, member_class, member_code, app)
    if code is None:
        raise _bad_request(
            f"no service provider {instance}/{member_class}/{member_code}/{app} in the register",
            "path",
            "unknown-member",
        )
    return snap.members[code]


def _services(snap: RegisterSnapshot, member: Member) -> list[tuple[str, list[OperationInfo]]]:
    """(service code, operations) of a member: its simple public services, then ``api``."""
    out: list[tuple[str, list[OperationInfo]]] = []
    for s in sorted(snap.services.values(), key=lambda s: s.code):
        if s.status != "active" or s.kind != "simple":
            continue
        ops = [snap.operation(op) for op in s.operations if op.agency == member.code]
        found = [o for o in ops if o is not None]
        if found:
            out.append((s.code, found))
    out.append((WHOLE_API, sorted(snap.operations_of(member.code), key=lambda o: o.id)))
    return out


def _details(member: Member, code: str, ops: list[OperationInfo]) -> ServiceDetails:
    return ServiceDetails(
        instanceId=member.instance,
        memberClass=member.member_class,
        memberCode=member.member_code,
        applicationCode=member.code,
        serviceCode=code,
        serviceVersion=SERVICE_VERSION,
        endpointList=EndpointList(
            member=[Endpoint(method=o.key.method, path=o.key.path) for o in ops]
        ),
    )


@router.get(
    f"{_PROVIDER}/listMethods",
    response_model=ServiceDetailsList,
    summary="REST services and endpoints of a service provider",
    responses=_ERRORS,
)
async def list_methods(
    register: Register,
    instanceId: str,
    memberClass: str,
    memberCode: str,
    applicationCode: str,
    serviceId: Annotated[str | None, Query()] = None,
) -> ServiceDetailsList:
    snap = register.snapshot
    member = _provider(snap, instanceId, memberClass, memberCode, applicationCode)
    return ServiceDetailsList(
        member=[
            _details(member, code, ops)
            for code, ops in _services(snap, member)
            if serviceId is None or serviceId == code
        ]
    )


def _client_code(snap: RegisterSnapshot, header: str | None) -> str:
    """``KZ/GOV/<BIN>/<subsystem>`` (X-Road client id) or a bare subsystem code."""
    if not header:
        raise _bad_request(
            "the X-GovStack-Client header (or X-Road-Client) names the caller, "
            "e.g. KZ/GOV/970340022041/registry",
            "X-GovStack-Client",
        )
    parts = header.strip().split("/")
    if len(parts) == 4:
        code = snap.agency_for_xroad(*parts)
    elif len(parts) == 1 and parts[0] in snap.members:
        code = parts[0]
    else:
        code = None
    if code is None:
        raise _bad_request(f"no client {header!r} in the register", "X-GovStack-Client")
    return code


@router.get(
    f"{_PROVIDER}/allowedMethods",
    response_model=ServiceDetailsList,
    summary="REST services and endpoints of a provider the caller may invoke",
    responses=_ERRORS,
)
async def allowed_methods(
    register: Register,
    instanceId: str,
    memberClass: str,
    memberCode: str,
    applicationCode: str,
    serviceId: Annotated[str | None, Query()] = None,
    x_govstack_client: Annotated[str | None, Header(alias="X-GovStack-Client")] = None,
    x_road_client: Annotated[str | None, Header(alias="X-Road-Client")] = None,
    im_client: Annotated[str | None, Header(alias="Information-Mediator-Client")] = None,
) -> ServiceDetailsList:
    snap = register.snapshot
    member = _provider(snap, instanceId, memberClass, memberCode, applicationCode)
    client = _client_code(snap, x_govstack_client or x_road_client or im_client)
    allowed = {info.id for info, _ in snap.allowed_operations(client)}
    out: list[ServiceDetails] = []
    for code, ops in _services(snap, member):
        mine = [o for o in ops if o.id in allowed]
        if mine and (serviceId is None or serviceId == code):
            out.append(_details(member, code, mine))
    return ServiceDetailsList(member=out)


@router.get(
    f"{_PROVIDER}/getOpenAPI",
    summary="The OpenAPI description of one REST service of a provider",
    responses={
        **_ERRORS,
        200: {"content": {"application/json": {}}, "description": "the OpenAPI document"},
        503: {"description": "the provider's document has not been fetched yet"},
    },
)
async def get_openapi(
    register: Register,
    instanceId: str,
    memberClass: str,
    memberCode: str,
    applicationCode: str,
    serviceCode: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    if not serviceCode:
        raise _bad_request("serviceCode is required", "serviceCode")
    snap = register.snapshot
    member = _provider(snap, instanceId, memberClass, memberCode, applicationCode)
    services = dict(_services(snap, member))
    if serviceCode not in services:
        raise _bad_request(
            f"{member.code} provides no service {serviceCode!r} (listMethods lists them)",
            "serviceCode",
            "unknown-service",
        )
    doc = snap.documents.get(member.code)
    if doc is None or doc.document is None:
        raise UpstreamUnavailable(
            f"the OpenAPI document of {member.code} has not been fetched yet", retry_after_s=5
        )
    if serviceCode == WHOLE_API:
        return JSONResponse(dict(doc.document))
    return JSONResponse(_restricted(dict(doc.document), services[serviceCode], serviceCode))


def _restricted(document: dict[str, Any], ops: list[OperationInfo], code: str) -> dict[str, Any]:
    """The member's document cut down to the operations of one service."""
    out = copy.deepcopy(document)
    wanted: dict[str, set[str]] = {}
    for o in ops:
        wanted.setdefault(o.key.path, set()).add(o.key.method.lower())
    paths: dict[str, Any] = {}
    for path, item in (document.get("paths") or {}).items():
        if path in wanted and isinstance(item, dict):
            kept = {
                k: v
                for k, v in item.items()
                if k in wanted[path]
                or k not in {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
            }
            if any(k in wanted[path] for k in kept):
                paths[path] = kept
    out["paths"] = paths
    info = dict(out.get("info") or {})
    info["title"] = f"{info.get('title', '')} — {code}".strip(" —")
    out["info"] = info
    return out
