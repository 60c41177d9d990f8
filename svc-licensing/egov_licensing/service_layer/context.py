"""What the use cases need besides a unit of work: time, the gateway, keys, trust."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from egov_licensing.settings import LicensingSettings
from meshkit.clock import Clock
from meshkit.gateway_client import GatewayClient
from meshkit.trust import DocumentKeys, NationalTrust


@dataclass(frozen=True)
class LicensingContext:
    settings: LicensingSettings
    clock: Clock
    document_keys: DocumentKeys
    trust: NationalTrust
    #: the runtime's gateway client, created on first use
    gateway: Callable[[], GatewayClient]
