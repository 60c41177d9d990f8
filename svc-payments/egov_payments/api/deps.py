"""FastAPI dependencies: the components of ``bootstrap.py``, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from egov_payments.bootstrap import Components
from egov_payments.domain.acquirer import Acquirer
from egov_payments.service_layer.services import AllowanceFacts, Policy, UowFactory
from meshkit.auth.assertion import RoutedCall, routed_call
from meshkit.clock import BusinessClock
from meshkit.errors import UpstreamUnavailable
from meshkit.service import components_dependency

PaymentsComponents = Annotated[Components, Depends(components_dependency(Components))]


def get_uows(c: PaymentsComponents) -> UowFactory:
    return c.uows


def get_clock(c: PaymentsComponents) -> BusinessClock:
    return c.clock


def get_policy(c: PaymentsComponents) -> Policy:
    return c.policy


def get_allowance_facts(c: PaymentsComponents) -> AllowanceFacts:
    return c.facts


def get_acquirers(c: PaymentsComponents) -> dict[str, Acquirer]:
    return c.acquirers


def get_default_acquirer(c: PaymentsComponents) -> Acquirer:
    code = c.settings.default_acquirer
    acquirer = c.acquirers.get(code)
    if acquirer is None:
        raise UpstreamUnavailable(f"acquirer {code!r} is not configured")
    return acquirer


Uows = Annotated[UowFactory, Depends(get_uows)]
ClockDep = Annotated[BusinessClock, Depends(get_clock)]
PolicyDep = Annotated[Policy, Depends(get_policy)]
Facts = Annotated[AllowanceFacts, Depends(get_allowance_facts)]
Acquirers = Annotated[dict[str, Acquirer], Depends(get_acquirers)]
DefaultAcquirer = Annotated[Acquirer, Depends(get_default_acquirer)]
Call = Annotated[RoutedCall, Depends(routed_call)]
