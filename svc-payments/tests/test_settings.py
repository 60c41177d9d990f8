import pytest

from egov_payments.settings import PaymentsSettings


def test_own_prefix_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_PORT", "18004")
    assert (PaymentsSettings().port, PaymentsSettings.service_name) == (18004, "payments")
