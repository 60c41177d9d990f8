"""What the registry's entrypoints hand to its use cases: the identity port, the document
signing keys and trust in the national CA. One set per running service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from fastapi import Request

from egov_registry.adapters.identity_gateway import GatewayIdentity
from egov_registry.service_layer.ports import IdentityDirectory, Trust
from egov_registry.settings import RegistrySettings
from meshkit.documents import RevocationCheck
from meshkit.service import ServiceRuntime, runtime_of
from meshkit.trust import DocumentKeys, NationalTrust

KEY = "registry"


@dataclass
class RegistryComponents:
    identity: IdentityDirectory
    keys: DocumentKeys
    trust: Trust
    #: defaults to the national CA's status service; tests install a double
    revocation: RevocationCheck | None
    certificate_validity: timedelta


def build_components(runtime: ServiceRuntime) -> RegistryComponents:
    settings = cast(RegistrySettings, runtime.settings)
    trust = NationalTrust(settings.identity_url, runtime.http)
    components = RegistryComponents(
        identity=GatewayIdentity(runtime.gateway_client),
        keys=DocumentKeys(
            subject="registry",
            key_pem=settings.document_key_pem,
            chain_pem=settings.document_chain_pem,
        ),
        trust=trust,
        revocation=trust.revoked_at,
        certificate_validity=timedelta(days=settings.certificate_validity_days),
    )
    runtime.extras[KEY] = components
    return components


def components_of(runtime: ServiceRuntime) -> RegistryComponents:
    found = runtime.extras.get(KEY)
    return found if isinstance(found, RegistryComponents) else build_components(runtime)


def components_dependency(request: Request) -> RegistryComponents:
    return components_of(runtime_of(request))
