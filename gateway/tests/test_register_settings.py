"""Register settings: agency URLs from the environment, the dev-mode admin token."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov_gateway.bootstrap import effective_agency_urls, overrides_of
from egov_gateway.settings import GatewaySettings
from meshkit.devsecrets import dev_secret
from meshkit_testing.apps import running
from meshkit_testing.services import build_app


def test_agency_urls_default_and_override_per_agency(monkeypatch: pytest.MonkeyPatch) -> None:
    assert effective_agency_urls(GatewaySettings())["notary"] == "http://127.0.0.1:8005"
    monkeypatch.setenv("GATEWAY_AGENCY_URLS__registry", "http://registry.internal:9002")
    monkeypatch.setenv("GATEWAY_REGISTER_OPTIONS__PROBE_INTERVAL_S", "7.5")
    s = GatewaySettings()
    urls = effective_agency_urls(s)
    assert urls["registry"] == "http://registry.internal:9002"
    assert urls["identity"] == "http://127.0.0.1:8001"
    assert s.register_options.probe_interval_s == 7.5


def test_agency_urls_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_AGENCY_URLS", '{"payments": "https://pay.example.kz"}')
    assert effective_agency_urls(GatewaySettings())["payments"] == "https://pay.example.kz"


async def test_dev_mode_generates_the_admin_token_and_env_urls_win(tmp_path: Path) -> None:
    app = build_app(
        "gateway",
        tmp_path,
        kafka_enabled=False,
        register_options={"background": False},
    )
    async with running(app) as client:
        token = dev_secret("gateway-admin", tmp_path)
        r = await client.get("/api/v1/admin/members", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        assert {m["code"]: m["base_urls"] for m in r.json()}["payments"] == [
            "http://127.0.0.1:8004"
        ]
    # a restart with an explicit URL for one agency updates the stored member
    app = build_app(
        "gateway",
        tmp_path,
        kafka_enabled=False,
        register_options={"background": False},
        agency_urls={"payments": "http://pay.internal:9004"},
    )
    async with running(app) as client:
        r = await client.get("/api/v1/admin/members", headers={"Authorization": f"Bearer {token}"})
        urls = {m["code"]: m["base_urls"] for m in r.json()}
        assert urls["payments"] == ["http://pay.internal:9004"]
        assert urls["registry"] == ["http://127.0.0.1:8002"]


async def test_without_a_configured_token_the_admin_api_is_closed(tmp_path: Path) -> None:
    app = build_app(
        "gateway", tmp_path, kafka_enabled=False, register_options={"background": False}
    )
    # what the bootstrap leaves outside dev mode when GATEWAY_ADMIN_TOKEN is unset
    overrides_of(app).admin_disabled = True
    async with running(app) as client:
        # no static token matches: only an operator's access token would (none here)
        r = await client.get("/api/v1/admin/members", headers={"Authorization": "Bearer anything"})
        assert r.status_code == 401 and "not valid" in r.json()["detail"]
