from pathlib import Path
from typing import ClassVar

import pytest
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")
    service_name: ClassVar[str] = "demo"
    port: int = 8099


def test_defaults_run_on_sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("MESH_DATA_DIR", "/tmp/mesh-x")
    s = DemoSettings()
    assert s.effective_database_url == "sqlite+aiosqlite:////tmp/mesh-x/demo.db"
    assert s.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert s.own_topic == "egov.demo"
    assert s.source == "/svc-demo"
    assert s.effective_consumer_group == "svc-demo"
    assert s.effective_gateway_jwks_url == "http://127.0.0.1:8000/.well-known/jwks.json"


def test_prefixed_variable_wins_over_mesh_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-a:9092")
    assert DemoSettings().kafka_bootstrap_servers == "broker-a:9092"
    monkeypatch.setenv("DEMO_KAFKA_BOOTSTRAP_SERVERS", "broker-b:9092")
    assert DemoSettings().kafka_bootstrap_servers == "broker-b:9092"


def test_prefix_is_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PORT", "9123")
    monkeypatch.setenv("OTHER_PORT", "1")
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    s = DemoSettings()
    assert s.port == 9123
    assert s.effective_database_url == "postgresql+asyncpg://u@h/db"


def test_topic_prefix_isolates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESH_TOPIC_PREFIX", "t1.")
    assert DemoSettings().topic("registry") == "t1.egov.registry"


def test_data_dir_is_a_path() -> None:
    assert isinstance(DemoSettings(data_dir="x").data_dir, Path)  # type: ignore[arg-type]
