import pytest

from egov_notary.settings import NotarySettings


def test_own_prefix_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTARY_PORT", "18005")
    assert (NotarySettings().port, NotarySettings.service_name) == (18005, "notary")
