import pytest

from egov_registry.settings import RegistrySettings


def test_own_prefix_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_PORT", "18002")
    assert (RegistrySettings().port, RegistrySettings.service_name) == (18002, "registry")
