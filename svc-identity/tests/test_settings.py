import pytest

from egov_identity.settings import IdentitySettings


def test_own_prefix_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_PORT", "18001")
    assert (IdentitySettings().port, IdentitySettings.service_name) == (18001, "identity")


def test_attempt_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = IdentitySettings()
    assert (defaults.login_rate_per_minute, defaults.login_rate_burst) == (5.0, 5)
    assert (defaults.otp_rate_per_minute, defaults.otp_rate_burst) == (5.0, 5)
    assert defaults.lock_revokes_sessions
    monkeypatch.setenv("IDENTITY_LOGIN_RATE_PER_MINUTE", "0")
    monkeypatch.setenv("IDENTITY_OTP_RATE_BURST", "3")
    monkeypatch.setenv("IDENTITY_LOCK_REVOKES_SESSIONS", "false")
    s = IdentitySettings()
    assert (s.login_rate_per_minute, s.otp_rate_burst, s.lock_revokes_sessions) == (0, 3, False)
    monkeypatch.setenv("IDENTITY_LOGIN_RATE_BURST", "-1")
    with pytest.raises(ValueError):
        IdentitySettings()
