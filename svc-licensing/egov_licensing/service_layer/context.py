"""What the use cases need besides a unit of work: time, the gateway, keys, trust."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from egov_licensing.clock import Clock, SystemClock
from egov_licensing.settings import LicensingSettings
from meshkit.errors import UpstreamUnavailable
from meshkit.gateway_client import GatewayClient
from meshkit.trust import DocumentKeys, NationalTrust


@dataclass
class LicensingContext:
    settings: LicensingSettings
    clock: Clock = field(default_factory=SystemClock)
    keys: DocumentKeys | None = None
    trust: NationalTrust | None = None
    gateway_factory: Callable[[], GatewayClient] | None = None

    def __post_init__(self) -> None:
        if self.keys is None:
            self.keys = DocumentKeys(
                subject="licensing",
                key_pem=self.settings.document_key_pem,
                chain_pem=self.settings.document_chain_pem,
            )

    @property
    def document_keys(self) -> DocumentKeys:
        assert self.keys is not None
        return self.keys

    def gateway(self) -> GatewayClient:
        if self.gateway_factory is None:
            raise UpstreamUnavailable("the gateway client is not configured yet")
        return self.gateway_factory()

    def national_trust(self) -> NationalTrust:
        if self.trust is None:
            raise UpstreamUnavailable("the national CA trust is not configured yet")
        return self.trust
