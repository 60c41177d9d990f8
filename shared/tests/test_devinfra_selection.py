"""Unit tests (no servers): which infrastructure the fixtures pick, and devinfra helpers."""

from __future__ import annotations

import itertools
import os
import socket
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from meshkit_testing import infra
from meshkit_testing.devinfra import InfraError, find_repo_root, free_port, parse_host_port
from meshkit_testing.devinfra.kafka import kafka_ready
from meshkit_testing.devinfra.postgres import asyncpg_dsn, database_url
from meshkit_testing.infra import (
    ENV_URL_VARS,
    FORCE_ENV,
    docker_engine_available,
    resolve_infrastructure,
    select_infrastructure,
)

KINDS = ("kafka", "postgres")
URL_VALUES = {
    "kafka": "127.0.0.1:19092",
    "postgres": "postgresql+asyncpg://u:p@127.0.0.1:5999/postgres",
}
FORCE_VALUES = (None, "", "auto", "AUTO", "local", " Local ", "testcontainers")


def expected_source(url_set: bool, force: str | None, docker: bool) -> str:
    """The documented rule, written independently of the implementation."""
    if url_set:
        return "env"
    mode = (force or "").strip().lower() or "auto"
    if mode == "local":
        return "local"
    if mode == "testcontainers":
        return "testcontainers"
    return "testcontainers" if docker else "local"


@pytest.mark.parametrize(
    ("kind", "own_url", "other_url", "force", "docker"),
    list(
        itertools.product(
            KINDS,
            (None, "", "   ", "set"),  # this kind's URL: unset / empty / blank / set
            (False, True),  # the other kind's URL set?
            FORCE_VALUES,
            (False, True),
        )
    ),
)
def test_select_infrastructure_all_combinations(
    kind: infra.InfraKind,
    own_url: str | None,
    other_url: bool,
    force: str | None,
    docker: bool,
) -> None:
    env: dict[str, str] = {}
    if own_url is not None:
        env[ENV_URL_VARS[kind]] = URL_VALUES[kind] if own_url == "set" else own_url
    if other_url:
        other = "postgres" if kind == "kafka" else "kafka"
        env[ENV_URL_VARS[other]] = URL_VALUES[other]
    if force is not None:
        env[FORCE_ENV] = force

    got = select_infrastructure(kind, env, docker_available=docker)

    assert got == expected_source(own_url == "set", force, docker)


def test_env_url_wins_over_a_forced_mode_and_docker() -> None:
    env = {ENV_URL_VARS["kafka"]: "broker:9092", FORCE_ENV: "testcontainers"}
    assert select_infrastructure("kafka", env, docker_available=True) == "env"
    assert select_infrastructure("postgres", env, docker_available=True) == "testcontainers"


def test_select_infrastructure_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=FORCE_ENV):
        select_infrastructure("kafka", {FORCE_ENV: "docker"}, docker_available=False)
    with pytest.raises(ValueError, match="kind"):
        select_infrastructure("redis", {}, docker_available=False)  # type: ignore[arg-type]


def test_select_infrastructure_is_pure() -> None:
    env = {FORCE_ENV: "auto"}
    snapshot = dict(env)
    results = {select_infrastructure("kafka", env, docker_available=True) for _ in range(3)}
    assert results == {"testcontainers"}
    assert env == snapshot


# --------------------------------------------------------------------------- resolve


class FakeDocker:
    """Stands in for the (cached) Docker probe and records each call."""

    def __init__(self) -> None:
        self.available = False
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.available


@pytest.fixture
def fake_docker(monkeypatch: pytest.MonkeyPatch) -> FakeDocker:
    fake = FakeDocker()
    monkeypatch.setattr(infra, "_docker_engine_available_cached", fake)
    return fake


def test_resolve_does_not_ask_docker_when_the_environment_decides(
    fake_docker: FakeDocker,
) -> None:
    env = {ENV_URL_VARS["kafka"]: "b:9092", FORCE_ENV: "local"}
    assert resolve_infrastructure("kafka", env) == "env"
    assert resolve_infrastructure("postgres", env) == "local"
    assert fake_docker.calls == 0


@pytest.mark.parametrize("installed", [True, False])
def test_resolve_uses_testcontainers_only_when_installed(
    fake_docker: FakeDocker, monkeypatch: pytest.MonkeyPatch, installed: bool
) -> None:
    fake_docker.available = True
    monkeypatch.setattr(infra, "testcontainers_installed", lambda: installed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = resolve_infrastructure("postgres", {})
    if installed:
        assert got == "testcontainers"
        assert not caught
    else:
        assert got == "local"
        assert any("testcontainers" in str(w.message) for w in caught)
    assert fake_docker.calls == 1


def test_resolve_without_docker_is_local(
    fake_docker: FakeDocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_docker.available = False
    monkeypatch.setattr(infra, "testcontainers_installed", lambda: True)
    assert resolve_infrastructure("kafka", {}) == "local"


# --------------------------------------------------------------------------- docker probe


def _fake_docker_cli(directory: Path, body: str) -> None:
    script = directory / "docker"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('echo "27.3.1"; exit 0', True),
        ('echo "Cannot connect to the Docker daemon" >&2; exit 1', False),
        ("exit 0", False),  # answered, but no server version
    ],
)
def test_docker_engine_available_runs_docker_info(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, expected: bool
) -> None:
    _fake_docker_cli(tmp_path, body)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    assert docker_engine_available(timeout=5) is expected


def test_docker_engine_available_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_docker_cli(tmp_path, "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    started = time.monotonic()
    assert docker_engine_available(timeout=0.5) is False
    assert time.monotonic() - started < 10


def test_docker_engine_available_without_docker_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert docker_engine_available() is False


# --------------------------------------------------------------------------- helpers


def test_find_repo_root(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_repo_root(nested, env={}) == tmp_path.resolve()
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert find_repo_root(nested, env={"MESH_REPO_ROOT": str(other)}) == other.resolve()


def test_find_repo_root_fails_clearly_outside_a_repo(tmp_path: Path) -> None:
    if any((p / "uv.lock").exists() for p in (tmp_path, *tmp_path.parents)):
        pytest.skip("tmp dir is inside a uv project")
    with pytest.raises(InfraError, match=r"uv\.lock"):
        find_repo_root(tmp_path, env={})


def test_postgres_urls() -> None:
    server = "postgresql+asyncpg://u:p%40ss@db.local:6543/postgres"
    assert database_url(server, "orders") == "postgresql+asyncpg://u:p%40ss@db.local:6543/orders"
    assert database_url("postgres://u@h/x", "y") == "postgresql+asyncpg://u@h/y"
    assert asyncpg_dsn(server) == "postgresql://u:p%40ss@db.local:6543/postgres"


def test_parse_host_port() -> None:
    assert parse_host_port("broker:19092", 9092) == ("broker", 19092)
    assert parse_host_port("broker", 9092) == ("broker", 9092)
    assert parse_host_port("[::1]:9093", 9092) == ("::1", 9093)


def test_kafka_probe_is_false_for_closed_ports_and_non_kafka_servers() -> None:
    assert kafka_ready(f"127.0.0.1:{free_port()}", timeout=0.5) is False
    with socket.socket() as server:  # accepts, then closes without answering
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert kafka_ready(f"127.0.0.1:{port}", timeout=0.5) is False


# --------------------------------------------------------------------------- the plugin


def _run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "meshkit_testing.plugin", "-p", "no:cacheprovider",
         "-o", "asyncio_mode=auto", "-q", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def test_plugin_import_is_cheap_and_starts_nothing() -> None:
    code = textwrap.dedent(
        """
        import sys
        import meshkit_testing.plugin
        heavy = [m for m in ("meshkit_testing.devinfra.kafka", "meshkit_testing.devinfra.postgres",
                             "meshkit_testing.infra", "aiokafka", "asyncpg") if m in sys.modules]
        print(heavy)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_not_supported_fault_injection_skips_the_test(tmp_path: Path) -> None:
    (tmp_path / "test_fault.py").write_text(
        textwrap.dedent(
            """
            from meshkit_testing.devinfra import NotSupported
            from meshkit_testing.infra import ExternalKafka

            def test_sync():
                ExternalKafka("127.0.0.1:1").kill()

            async def test_async():
                await ExternalKafka("127.0.0.1:1").arestart()

            def test_other_errors_still_fail():
                raise RuntimeError("boom")
            """
        )
    )
    proc = _run_pytest(tmp_path, "-rs")
    output = proc.stdout + proc.stderr
    assert "1 failed, 2 skipped" in output, output
    assert "needs locally run infrastructure" in output
