import pytest

from egov_identity.settings import IdentitySettings


def test_own_prefix_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_PORT", "18001")
    assert (IdentitySettings().port, IdentitySettings.service_name) == (18001, "identity")
