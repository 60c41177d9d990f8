import pytest

from egov_gateway.settings import GatewaySettings


def test_own_prefix_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "18000")
    assert (GatewaySettings().port, GatewaySettings.service_name) == (18000, "gateway")
