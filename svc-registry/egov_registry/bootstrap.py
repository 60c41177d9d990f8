"""The composition root of svc-registry: what its entrypoints hand to the use cases (the
identity port, the document signing keys, trust in the national CA), built once at start.
Entrypoints reach it through ``api/deps.py``; tests swap parts with ``runtime.customise``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from egov_registry.adapters.identity_gateway import GatewayIdentity
from egov_registry.seed import seed_demo_data
from egov_registry.service_layer.ports import IdentityDirectory, Trust
from egov_registry.settings import RegistrySettings
from meshkit.documents import RevocationCheck
from meshkit.service import ServiceRuntime
from meshkit.trust import DocumentKeys, NationalTrust


@dataclass(frozen=True)
class Components:
    settings: RegistrySettings
    identity: IdentityDirectory
    keys: DocumentKeys
    trust: Trust
    #: defaults to the national CA's status service; tests install a double
    revocation: RevocationCheck | None
    certificate_validity: timedelta


async def bootstrap(runtime: ServiceRuntime) -> Components:
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)
    trust = NationalTrust(settings.identity_url, runtime.http)
    return Components(
        settings=settings,
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


async def start(runtime: ServiceRuntime) -> None:
    components = runtime.components_as(Components)
    if components.settings.dev_mode:
        await seed_demo_data(runtime.uow_factory)
        if not components.keys.ready:
            # dev: have the national CA certify a fresh key (retries until identity answers)
            runtime.spawn(components.keys.obtain_from_ca(runtime.gateway_client()), "ca-bootstrap")
