"""FastAPI dependencies of svc-notary: the components of ``bootstrap.py`` (unit of work, other
agencies, settings), the caller, path checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from egov_notary.adapters.agencies import GatewayAgencies
from egov_notary.bootstrap import Components
from egov_notary.service_layer.services import Actor, FeePolicy
from egov_notary.service_layer.unit_of_work import NotaryUnitOfWork
from egov_notary.settings import NotarySettings
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.calendar import local_date
from meshkit.reference import mrp_tiyn
from meshkit.service import components_dependency

#: acts are identified by a UUID (``services.draft_act``); the pattern keeps malformed ids
#: (``?``, control characters…) a 422 on the path instead of a lookup
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ACT_ID_PATTERN = rf"^{_UUID}$"
#: a registered act's number (``domain.acts.format_act_number``: N-<year>-<6+ digit sequence>)
_ACT_NUMBER = r"N-[0-9]{4}-[0-9]{6,12}"
ACT_ID_OR_NUMBER_PATTERN = rf"^(?:{_UUID}|{_ACT_NUMBER})$"
ActId = Annotated[
    str,
    Path(
        pattern=ACT_ID_PATTERN,
        description="the act's id (a UUID)",
        examples=["0b9f6a8e-4c1d-4f7a-9a57-3f2c1e8d5b60"],
    ),
]
ActIdOrNumber = Annotated[
    str,
    Path(
        pattern=ACT_ID_OR_NUMBER_PATTERN,
        description="the act's id (a UUID) or, once registered, its number",
        examples=["N-2026-000123"],
    ),
]


async def path_params_first(request: Request) -> None:
    """Validate the path parameters before the gateway assertion is checked.

    FastAPI solves dependencies (``routed_call``) before it validates path parameters, so a
    malformed identifier (e.g. one with ``?`` or a control character, which the URL the
    assertion is compared with cannot carry) would be refused as a mismatched assertion
    (401) instead of the 422 with field errors it is. Knowing the shape of an id tells a
    caller nothing, so validating it first leaks nothing.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    _, errors = request_params_to_args(route.dependant.path_params, request.path_params)
    if errors:
        raise RequestValidationError(errors)


NotaryComponents = Annotated[Components, Depends(components_dependency(Components))]


def uow(components: NotaryComponents) -> NotaryUnitOfWork:
    return components.uows()


def actor(call: Annotated[RoutedCall, Depends(routed_call)]) -> Actor:
    return Actor(client=call.client, user=call.user)


def agencies(components: NotaryComponents) -> GatewayAgencies:
    return components.agencies


def settings(components: NotaryComponents) -> NotarySettings:
    return components.settings


def fees(s: Annotated[NotarySettings, Depends(settings)]) -> FeePolicy:
    mrp = s.mrp_tiyn or mrp_tiyn(local_date(datetime.now(UTC)))  # the MRP of the day
    return FeePolicy(mrp_tiyn=mrp, kbk=s.fee_kbk, due_days=s.invoice_due_days)


UoW = Annotated[NotaryUnitOfWork, Depends(uow)]
Caller = Annotated[Actor, Depends(actor)]
Agencies = Annotated[GatewayAgencies, Depends(agencies)]
Settings = Annotated[NotarySettings, Depends(settings)]
Fees = Annotated[FeePolicy, Depends(fees)]
#: router dependency: runs before every endpoint's own dependencies (the assertion)
PathParamsFirst = Depends(path_params_first)
