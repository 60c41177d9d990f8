"""Run the whole mesh on one machine: Kafka, the six services, demo data.

``make run`` calls this. Services use their embedded defaults (one SQLite file each under
``.data/``); Kafka is Apache Kafka started as a local process (or the broker named by
``KAFKA_BOOTSTRAP_SERVERS``). Ctrl-C stops everything it started.

    python deploy/local/mesh.py run [--port-base 8000] [--check]

``--check`` exits once every service is ready and the demo data is loaded (used by tests).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = [  # (name, env prefix, offset from the port base)
    ("gateway", "GATEWAY", 0),
    ("identity", "IDENTITY", 1),
    ("registry", "REGISTRY", 2),
    ("licensing", "LICENSING", 3),
    ("payments", "PAYMENTS", 4),
    ("notary", "NOTARY", 5),
]
COLORS = ["\033[95m", "\033[94m", "\033[96m", "\033[92m", "\033[93m", "\033[91m"]
READY_DEADLINE_S = 90.0


def _pump(name: str, color: str, stream: object) -> None:
    width = max(len(n) for n, _, _ in SERVICES)
    tty = sys.stdout.isatty()
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        line = raw.decode(errors="replace").rstrip()
        prefix = f"{color}{name:<{width}} |\033[0m " if tty else f"{name:<{width}} | "
        sys.stdout.write(prefix + line + "\n")
        sys.stdout.flush()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _kafka(command: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "meshkit_testing.devinfra", "kafka", command],
        cwd=ROOT,
        env=env,
        check=True,
    )


def run(port_base: int, check: bool, data_dir: Path) -> int:
    env = dict(os.environ)
    env.setdefault("MESH_DATA_DIR", str(data_dir))
    env.setdefault("MESH_DEV_MODE", "true")
    env.setdefault("MESH_LOG_JSON", "false")
    env["MESH_GATEWAY_URL"] = f"http://127.0.0.1:{port_base}"
    env["MESH_IDENTITY_URL"] = f"http://127.0.0.1:{port_base + 1}"
    for _name, prefix, offset in SERVICES:
        env[f"{prefix}_PORT"] = str(port_base + offset)
        env.setdefault(f"{prefix}_PUBLIC_URL", f"http://127.0.0.1:{port_base + offset}")
    # the gateway routes to the agencies on this run's ports, not the default 8001..8005
    env.setdefault(
        "GATEWAY_AGENCY_URLS",
        json.dumps({n: f"http://127.0.0.1:{port_base + off}" for n, _, off in SERVICES if off}),
    )
    external_kafka = "KAFKA_BOOTSTRAP_SERVERS" in os.environ
    print(f"egov-mesh: starting Kafka ({'external' if external_kafka else 'local process'}) …")
    _kafka("start", env)
    kafka_env = dict(env)  # without the default below, so `stop` knows the broker is ours
    env.setdefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")

    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = threading.Event()

    def stop_all(*_: object) -> None:
        if stopping.is_set():
            return
        stopping.set()
        print("\negov-mesh: stopping services …")
        for _, proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        if not external_kafka:
            print("egov-mesh: stopping Kafka …")
            _kafka("stop", kafka_env)

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)
    started = time.monotonic()
    try:
        for i, (name, _, _) in enumerate(SERVICES):
            proc = subprocess.Popen(
                [sys.executable, "-m", f"egov_{name}", "serve"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            procs.append((name, proc))
            threading.Thread(target=_pump, args=(name, COLORS[i], proc.stdout), daemon=True).start()
        pending = {name: port_base + off for name, _, off in SERVICES}
        while pending and time.monotonic() - started < READY_DEADLINE_S:
            for name, port in list(pending.items()):
                if _ready(f"http://127.0.0.1:{port}/health/ready"):
                    pending.pop(name)
            for name, proc in procs:
                if proc.poll() is not None:
                    print(f"egov-mesh: {name} exited with code {proc.returncode}")
                    stop_all()
                    return 1
            if pending:
                time.sleep(0.5)  # polling interval, not synchronisation
        if pending:
            print(f"egov-mesh: not ready after {READY_DEADLINE_S:.0f}s: {', '.join(pending)}")
            stop_all()
            return 1
        took = time.monotonic() - started
        sys.path.insert(0, str(Path(__file__).parent))
        from demo import load_demo

        load_demo({name: f"http://127.0.0.1:{port_base + off}" for name, _, off in SERVICES})
        from accounts import demo_accounts, render

        accounts = render(
            demo_accounts(Path(env["MESH_DATA_DIR"])),
            portal=f"http://127.0.0.1:{port_base}",
            identity=f"http://127.0.0.1:{port_base + 1}",
            data_dir=Path(env["MESH_DATA_DIR"]),
        )
        print(
            "\n"
            f"egov-mesh is up ({took:.1f}s to ready).\n"
            f"  Portal (single window):  http://127.0.0.1:{port_base}/\n"
            f"  Gateway API (OpenAPI):   http://127.0.0.1:{port_base}/docs\n"
            + "".join(
                f"  svc-{name:<10} http://127.0.0.1:{port_base + off}/docs\n"
                for name, _, off in SERVICES[1:]
            )
            + f"  Kafka:                   {env['KAFKA_BOOTSTRAP_SERVERS']}\n"
            + accounts
            + ("Check mode: stopping.\n" if check else "Press Ctrl-C to stop.\n")
        )
        if check:
            stop_all()
            return 0
        while not stopping.is_set():
            for name, proc in procs:
                if proc.poll() is not None and not stopping.is_set():
                    print(f"egov-mesh: {name} exited with code {proc.returncode}")
                    stop_all()
                    return 1
            stopping.wait(1.0)
        return 0
    except BaseException:
        stop_all()
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--port-base", type=int, default=8000)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".data")
    args = parser.parse_args()
    sys.exit(run(args.port_base, args.check, args.data_dir))


if __name__ == "__main__":
    main()
