"""FastAPI dependencies of svc-notary: unit of work, the caller, other agencies, settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from egov_notary.adapters.agencies import GatewayAgencies
from egov_notary.service_layer.services import Actor, FeePolicy
from egov_notary.service_layer.unit_of_work import NotaryUnitOfWork
from egov_notary.settings import NotarySettings
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.service import runtime_of


def uow(request: Request) -> NotaryUnitOfWork:
    made = runtime_of(request).uow_factory()
    assert isinstance(made, NotaryUnitOfWork)
    return made


def actor(call: Annotated[RoutedCall, Depends(routed_call)]) -> Actor:
    return Actor(client=call.client, user=call.user)


def agencies(request: Request) -> GatewayAgencies:
    return GatewayAgencies(runtime_of(request).gateway_client())


def settings(request: Request) -> NotarySettings:
    s = runtime_of(request).settings
    assert isinstance(s, NotarySettings)
    return s


def fees(s: Annotated[NotarySettings, Depends(settings)]) -> FeePolicy:
    return FeePolicy(mrp_tiyn=s.mrp_tiyn, kbk=s.fee_kbk, due_days=s.invoice_due_days)


UoW = Annotated[NotaryUnitOfWork, Depends(uow)]
Caller = Annotated[Actor, Depends(actor)]
Agencies = Annotated[GatewayAgencies, Depends(agencies)]
Settings = Annotated[NotarySettings, Depends(settings)]
Fees = Annotated[FeePolicy, Depends(fees)]
