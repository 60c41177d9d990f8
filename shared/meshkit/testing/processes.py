"""The whole mesh as six operating-system processes (``python -m egov_<name> serve``), for
end-to-end tests and benchmarks that must survive a SIGKILL of one service.

Each service gets its own port, its own PostgreSQL database (or SQLite file), dev mode (demo
citizens, funded budgets, generated keys under one data directory) and a topic prefix that
isolates the run on a shared Kafka. Logs go to ``<data_dir>/<name>.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = ("gateway", "identity", "registry", "licensing", "payments", "notary")
PREFIX = {name: name.upper() for name in SERVICES}


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
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
