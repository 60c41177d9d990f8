"""Services as real operating-system processes (``python -m <package>``) for tests that need
them: SIGKILL under load, several replicas of one service on the same database and broker.

    procs = ServiceProcesses(tmp_path / "processes.log")
    try:
        gw = procs.spawn("egov_gateway", {"GATEWAY_PORT": "8123", ...})
        await procs.wait_live("http://127.0.0.1:8123", gw)
    finally:
        procs.stop_all()

Every process writes to one log file, whose tail is shown when a process dies early.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from meshkit.testing.polling import eventually


class ServiceProcesses:
    """Processes started by one test; ``stop_all()`` ends them (TERM, then KILL)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, module: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, **env},
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    async def wait_live(
        self, url: str, proc: subprocess.Popen[bytes], *, within: float = 120
    ) -> None:
        """Until ``url``/health/live answers 200; fails at once if the process exits."""
        async with httpx.AsyncClient() as c:

            async def live() -> bool:
                if proc.poll() is not None:
                    pytest.fail(f"{url} exited ({proc.returncode}): {self.log_tail()}")
                try:
                    return (await c.get(f"{url}/health/live")).status_code == 200
                except httpx.HTTPError:
                    return False

            try:
                await eventually(live, within=within, what=f"{url} to start", interval=0.1)
            except pytest.fail.Exception as exc:
                pytest.fail(f"{exc}\n--- processes' log ---\n{self.log_tail()}")

    def stop_all(self, timeout: float = 10.0) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


async def metric_total(client: httpx.AsyncClient, base_url: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample ``name`` (e.g. ``mesh_outbox_published_total``) over the
    series whose labels include ``labels``, from ``base_url``/metrics of one process."""
    r = await client.get(f"{base_url}/metrics")
    r.raise_for_status()
    total = 0.0
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
