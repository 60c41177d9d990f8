"""`make run` (deploy/local/mesh.py) brings the six services up healthy and loads demo data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meshkit_testing.devinfra import free_port

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


def test_mesh_comes_up_within_90_seconds(kafka: Any, tmp_path: Path) -> None:
    base = free_port()
    while any(not _free(base + i) for i in range(6)):
        base = free_port()
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers)
    proc = subprocess.run(
        [
            sys.executable,
            "deploy/local/mesh.py",
            "run",
            "--check",
            "--port-base",
            str(base),
            "--data-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    m = re.search(r"egov-mesh is up \(([\d.]+)s to ready\)", out)
    assert m, out[-4000:]
    assert float(m.group(1)) < 90
    assert "reached all six services" in out
    # the demo accounts a newcomer signs in with, passwords from this machine's dev secrets
    secrets = json.loads((tmp_path / "dev-secrets.json").read_text())
    assert "Demo accounts" in out and f"{base}/login" in out
    assert re.search(rf"900115300122  {re.escape(secrets['demo-citizen-password'])}  ", out)
    operators = out.split("Operators (IIN / password):", 1)[1]
    assert "880707300858" in operators and "/centre" in operators
    assert f"client_id=registry  client_secret={secrets['client:registry']}" in out
    for name in ("gateway", "identity", "registry", "licensing", "payments", "notary"):
        assert (tmp_path / f"{name}.db").exists(), f"{name} did not use its embedded SQLite"


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
