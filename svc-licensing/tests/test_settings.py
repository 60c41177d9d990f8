import pytest

from egov_licensing.settings import LicensingSettings


def test_own_prefix_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSING_PORT", "18003")
    assert (LicensingSettings().port, LicensingSettings.service_name) == (18003, "licensing")
