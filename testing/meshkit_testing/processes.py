"""Services as real operating-system processes, for tests and benchmarks that must survive a
SIGKILL or run several replicas of one service on the same database and broker.

* :class:`ServiceProcesses` spawns single services (``python -m <package>``) with one shared
  log, e.g. two gateway replicas on one database;
* :class:`ProcessMesh` / :func:`process_mesh` run the whole mesh as six processes (own ports,
  own PostgreSQL database or SQLite file each, dev mode, a topic prefix that isolates the run
  on a shared Kafka; logs in ``<data_dir>/<name>.log``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from meshkit_testing.polling import eventually

SERVICES = ("gateway", "identity", "registry", "licensing", "payments", "notary")
PREFIX = {name: name.upper() for name in SERVICES}


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports (outside the ephemeral range, see ``free_port``)."""
    from meshkit_testing.devinfra import free_port

    ports: list[int] = []
    while len(ports) < n:
        ports.append(free_port(avoid=frozenset(ports)))
    return ports


@dataclass
class ProcessMesh:
    data_dir: Path
    kafka_bootstrap: str
    database_urls: dict[str, str] = field(default_factory=dict)  # name -> URL (else SQLite)
    extra_env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    cwd: Path | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def env(self) -> dict[str, str]:
        if not self.ports:
            self.ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        env = dict(os.environ)
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "MESH_DATA_DIR": str(self.data_dir),
                "MESH_DEV_MODE": "true",
                "MESH_LOG_JSON": "false",
                "MESH_LOG_LEVEL": "INFO",
                "MESH_GATEWAY_URL": self.url("gateway"),
                "MESH_IDENTITY_URL": self.url("identity"),
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                "MESH_TOPIC_PREFIX": f"e2e{self.ports['gateway']}.",
                "GATEWAY_AGENCY_URLS": json.dumps(
                    {n: self.url(n) for n in SERVICES if n != "gateway"}
                ),
            }
        )
        for name in SERVICES:
            env[f"{PREFIX[name]}_PORT"] = str(self.ports[name])
            env[f"{PREFIX[name]}_PUBLIC_URL"] = self.url(name)
            if name in self.database_urls:
                env[f"{PREFIX[name]}_DATABASE_URL"] = self.database_urls[name]
        env.update(self.extra_env)
        return env

    def start(self, *names: str, ready_within: float = 240.0) -> None:
        env = self.env()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for name in names or SERVICES:
            log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", f"egov_{name}", "serve"],
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
        self.wait_ready(*(names or SERVICES), within=ready_within)

    def wait_ready(self, *names: str, within: float) -> None:
        deadline = time.monotonic() + within
        pending = set(names)
        while pending:
            for name in list(pending):
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}):\n{self.log_tail(name)}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{self.url(name)}/health/ready", timeout=2).status_code == 200:
                        pending.discard(name)
            if pending and time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}\n{self.log_tail(n)}" for n in pending)
                raise RuntimeError(f"not ready within {within}s: {sorted(pending)}\n{tails}")
            if pending:
                time.sleep(0.3)  # polling interval of a readiness probe

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hooks, no flushing — a crash."""
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for name, proc in list(self.procs.items()):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.procs.pop(name, None)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.data_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- citizens -----------------------------------------------------------------------
    def dev_secret(self, name: str) -> str:
        from meshkit.devsecrets import dev_secret

        return dev_secret(name, self.data_dir)

    def agency_token(self, agency: str) -> str:
        """An agency's OAuth2 client-credentials token (its dev secret)."""
        r = httpx.post(
            f"{self.url('identity')}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(agency, self.dev_secret(f"client:{agency}")),
            timeout=30,
        )
        r.raise_for_status()
        return str(r.json()["access_token"])

    def login(self, iin: str, phone: str) -> str:
        """IIN + demo password, then the one-time code from identity's dev SMS outbox."""
        identity = self.url("identity")
        password = self.dev_secret("demo-citizen-password")
        r = httpx.post(
            f"{identity}/auth/login", json={"iin": iin, "password": password}, timeout=30
        )
        r.raise_for_status()
        challenge = r.json()["challenge_id"]
        sms = httpx.get(f"{identity}/dev/sms", params={"phone": phone}, timeout=10).json()
        items = sms["items"] if isinstance(sms, dict) else sms
        code = next(
            (m.get("code") for m in items if m.get("code")),
            None,
        )
        if code is None:
            raise RuntimeError(f"no one-time code for {phone}: {sms}")
        r = httpx.post(
            f"{identity}/auth/otp", json={"challenge_id": challenge, "code": code}, timeout=30
        )
        r.raise_for_status()
        return str(r.json()["access_token"])


@contextlib.contextmanager
def process_mesh(
    data_dir: Path,
    kafka_bootstrap: str,
    *,
    database_url: Callable[[str], str] | None = None,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[ProcessMesh]:
    mesh = ProcessMesh(
        data_dir,
        kafka_bootstrap,
        database_urls={n: database_url(n) for n in SERVICES} if database_url else {},
        extra_env=extra_env or {},
        cwd=cwd,
    )
    try:
        # identity first: the others fetch its keys and tokens as they start
        mesh.start("identity")
        mesh.start(*[n for n in SERVICES if n != "identity"])
        yield mesh
    finally:
        mesh.stop()


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


@contextlib.contextmanager
def single_window_mesh(
    data_dir: Path,
    kafka_bootstrap: str,
    postgres: Any,
    *,
    prefix: str,
    step_retry_for_s: float,
    cwd: Path | None = None,
) -> Iterator[ProcessMesh]:
    """The six services on PostgreSQL (a fresh database each, named ``<prefix>_<run>_<service>``)
    with the single window's engine tuned for tests: a step whose agency is down is retried for
    ``step_retry_for_s`` (then it fails and compensations run), sweeps every second."""
    run = uuid.uuid4().hex[:8]
    with process_mesh(
        data_dir,
        kafka_bootstrap,
        database_url=lambda name: postgres.create_database(f"{prefix}_{run}_{name}"),
        extra_env={
            "GATEWAY_APPLICATIONS__STEP_RETRY_FOR_S": str(step_retry_for_s),
            "GATEWAY_APPLICATIONS__STEP_RETRY_BACKOFF_S": "0.5",
            "GATEWAY_APPLICATIONS__SWEEP_INTERVAL_S": "1",
            "GATEWAY_BREAKER_COOLDOWN_S": "1",
        },
        cwd=cwd,
    ) as mesh:
        yield mesh


def birth_form(n: int, *, mother_iin: str, father_iin: str) -> dict[str, Any]:
    """The *Birth of a child* form as parents fill it in: child ``n`` (the n-th of a load run),
    born in the last twenty days, alternately a boy and a girl."""
    from meshkit import calendar

    born = calendar.local_date(datetime.now(UTC)) - timedelta(days=1 + n % 20)
    return {
        "surname": "Сәрсенбаев",
        "given_name": f"Бала{n}",
        "birth_date": born.isoformat(),
        "sex": "female" if n % 2 else "male",
        "place": "Алматы қ., №1 перзентхана",
        "mother_iin": mother_iin,
        "father_iin": father_iin,
    }
