"""FastAPI dependencies: the service's runtime pieces, typed."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from egov_payments.domain.acquirer import Acquirer
from egov_payments.service_layer.clock import Clock
from egov_payments.service_layer.services import AllowanceFacts, Policy, UowFactory
from egov_payments.settings import PaymentsSettings
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.errors import UpstreamUnavailable
from meshkit.service import runtime_of


def get_uows(request: Request) -> UowFactory:
    return cast(UowFactory, runtime_of(request).uow_factory)


def get_clock(request: Request) -> Clock:
    clock: Clock = runtime_of(request).extras["clock"]
    return clock


def get_policy(request: Request) -> Policy:
    policy: Policy = runtime_of(request).extras["policy"]
    return policy


def get_allowance_facts(request: Request) -> AllowanceFacts:
    facts: AllowanceFacts = runtime_of(request).extras["allowance_facts"]
    return facts


def get_acquirers(request: Request) -> dict[str, Acquirer]:
    acquirers: dict[str, Acquirer] = runtime_of(request).extras["acquirers"]
    return acquirers


def get_default_acquirer(request: Request) -> Acquirer:
    settings = cast(PaymentsSettings, runtime_of(request).settings)
    acquirer = get_acquirers(request).get(settings.default_acquirer)
    if acquirer is None:
        raise UpstreamUnavailable(f"acquirer {settings.default_acquirer!r} is not configured")
    return acquirer


Uows = Annotated[UowFactory, Depends(get_uows)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PolicyDep = Annotated[Policy, Depends(get_policy)]
Facts = Annotated[AllowanceFacts, Depends(get_allowance_facts)]
Acquirers = Annotated[dict[str, Acquirer], Depends(get_acquirers)]
DefaultAcquirer = Annotated[Acquirer, Depends(get_default_acquirer)]
Call = Annotated[RoutedCall, Depends(routed_call)]
