from pathlib import Path

import pytest

from egov_gateway.settings import GatewaySettings


def test_own_prefix_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "18000")
    assert (GatewaySettings().port, GatewaySettings.service_name) == (18000, "gateway")


async def test_additional_public_keys_stay_in_the_jwks_during_a_rotation(tmp_path: Path) -> None:
    """Rolling a new assertion key over replicas: every replica publishes the other key too,
    so an agency accepts the assertions of replicas on either side of the roll."""
    from cryptography.hazmat.primitives import serialization

    from meshkit.auth.assertion import AssertionVerifier, sign_assertion
    from meshkit.auth.jwks import JWKSClient
    from meshkit.auth.keys import SigningKey
    from meshkit_testing.apps import running
    from meshkit_testing.services import build_app

    old, new, older = SigningKey.generate(), SigningKey.generate(), SigningKey.generate("ES256")
    old_public = (
        old.private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    (tmp_path / "older.pem").write_bytes(older.private_pem())  # a private PEM: public half kept
    app = build_app(
        "gateway",
        tmp_path,
        kafka_enabled=False,
        register_options={"background": False},
        signing_key_pem=new.private_pem().decode(),
        additional_public_keys_pem=old_public + new.private_pem().decode(),  # (current: skipped)
        additional_public_keys_file=tmp_path / "older.pem",
    )
    async with running(app) as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in jwks["keys"]] == [new.kid, old.kid, older.kid]
    assert all("d" not in k for k in jwks["keys"])  # never a private member
    verifier = AssertionVerifier(JWKSClient(jwks), agency="registry")
    for key, rid in ((old, "req-rot-0001"), (new, "req-rot-0002"), (older, "req-rot-0003")):
        token = sign_assertion(
            key,
            agency="registry",
            method="GET",
            path="/mesh/whoami",
            client="licensing",
            user=None,
            request_id=rid,
        )
        call = await verifier.verify(
            token, method="GET", path="/mesh/whoami", request_id=rid, query="", body=b""
        )
        assert call.client == "licensing"


def test_a_previous_key_that_is_not_pem_stops_the_start(tmp_path: Path) -> None:
    from egov_gateway.bootstrap import load_keyring
    from meshkit_testing.services import build_app

    app = build_app(
        "gateway", tmp_path, kafka_enabled=False, additional_public_keys_pem="not a key"
    )
    with pytest.raises(RuntimeError, match="GATEWAY_ADDITIONAL_PUBLIC_KEYS_PEM"):
        load_keyring(app.state.runtime.settings)
