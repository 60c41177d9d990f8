"""Dev mode: demo real estate seeded idempotently and fast; the signing key is certified by
the national CA through the gateway at start."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from egov_registry.app import create_app
from egov_registry.bootstrap import Components
from egov_registry.seed import demo_bin, demo_iins, seed_demo_data
from meshkit.gateway_client import GatewayClient
from meshkit.ids import parse_iin
from meshkit.service import ServiceRuntime
from meshkit.trust import NationalTrust
from meshkit_testing.apps import FakeGateway, running
from meshkit_testing.ca import TestCA
from meshkit_testing.mesh import transport_for
from meshkit_testing.polling import eventually
from meshkit_testing.registry import Registry, RevocationDouble, default_identity, registry_settings


async def test_dev_mode_seeds_demo_data_and_obtains_a_signing_key(
    tmp_path: Path, database_url: str | None
) -> None:
    fake, ca = FakeGateway(tmp_path), TestCA()
    identity = default_identity()
    identity.ca = ca
    for iin in demo_iins():
        person = parse_iin(iin)
        identity.add(iin, person.sex, person.birth_date)
    settings = registry_settings(
        tmp_path, database_url, gateway_jwks_url=fake.jwks_url, dev_mode=True
    )
    app = create_app(settings)
    runtime: ServiceRuntime = app.state.runtime
    runtime.gateway = GatewayClient(
        "http://gateway",
        client_code="registry",
        static_token="t",
        transport=transport_for({"identity": identity.app()}, fake),
    )

    def trusting_the_test_ca(components: Components) -> Components:
        assert isinstance(components.trust, NationalTrust)
        components.trust.pin([ca.cert])
        return dataclasses.replace(components, revocation=None)

    runtime.customise(trusting_the_test_ca)
    async with running(app) as client:
        components = runtime.components_as(Components)
        harness = Registry(app, client, fake, identity, ca, RevocationDouble(), "dev")
        alikhan, aigerim, _dauren, gulnar, yerlan = demo_iins()
        flat = (await harness.call("GET", "/properties/21:318:010:123:4")).json()
        assert {o["id"] for o in flat["owners"]} == {alikhan, aigerim}
        assert [e["kind"] for e in flat["encumbrances"]] == ["mortgage"]
        arrested = (await harness.call("GET", "/properties/20:311:005:041:17")).json()
        assert [e["kind"] for e in arrested["encumbrances"]] == ["arrest"]
        mine = await harness.citizen("GET", "/properties", gulnar, params={"holder": gulnar})
        assert len(mine.json()["items"]) == 2
        llp = (await harness.call("GET", f"/legal-entities/{demo_bin()}")).json()
        assert llp["director_iin"] == alikhan

        # the dev key was certified by the CA through the gateway; certificates can be issued
        async def certified() -> bool:
            return components.keys.ready

        await eventually(certified, within=30, what="the CA to certify the key")
        assert any(c["path"] == "/ca/certificates" for c in identity.calls)
        cert = await harness.citizen(
            "POST",
            "/certificates",
            yerlan,
            json={"kind": "real_estate_presence", "subject": yerlan},
        )
        assert cert.status_code == 201, cert.text
        verdict = await client.post(
            "/public/certificates/verify", json={"document": cert.json()["document"]}
        )
        assert verdict.json()["valid"] is True
        # seeding again adds nothing, and is fast
        started = time.perf_counter()
        assert await seed_demo_data(runtime.uow_factory) == 0
        assert time.perf_counter() - started < 2.0
