"""Gateway overhead benchmark: the same trivial agency operation three ways, in one run.

1. direct     wrk → agency (svc-registry under uvicorn) ``GET /mesh/whoami``
2. gateway    wrk → gateway ``GET /x/registry/mesh/whoami`` → agency, with everything on:
              agency token verified (JWKS), ACL grant checked, purpose, fresh X-Mesh-Assertion
              signed per call, request id + traceparent, breaker, rate limiter, and an audit
              record made durable (group commit, SQLite WAL synchronous=FULL) before each answer
3. nginx      wrk → nginx (Debian's, plain process, own config, keep-alive upstream) → agency

Fairness: the agency endpoint verifies an X-Mesh-Assertion on every path. Through the gateway
it is a fresh one per call; on the direct and nginx paths wrk sends one valid assertion
pre-signed by the same gateway key with a one-hour lifetime (and its matching X-Request-Id),
so the agency does the same signature check on all three paths. The agency and the gateway
are separate uvicorn processes with the same log level (WARNING); wrk uses one thread and a few
keep-alive connections for ``--duration`` seconds per path after a short warm-up.

    uv run python tests/bench/gateway.py [--duration 10] [--connections 8]

Prints a table and saves bench-results/gateway.json. Installs wrk and nginx from Debian's
packages when they are missing (apt-get, as root).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from common import print_table, save, scratch_dir

from egov_gateway.testkit import BINS, ISSUER, TestIdentity
from meshkit.auth.assertion import sign_assertion
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.devinfra import free_port

TARGET_THROUGHPUT = 0.5  # gateway keeps ≥ 50 % of direct requests/s
TARGET_ADDED_P50_MS = 2.0


def ensure_tools() -> None:
    missing = [pkg for tool, pkg in (("wrk", "wrk"), ("nginx", "nginx-light")) if not _which(tool)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"install {' '.join(missing)} (apt-get install -y {' '.join(missing)})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    rc = subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env).returncode
    if rc != 0 and "nginx-light" in missing:  # some releases ship only "nginx"
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, env=env)


def _which(tool: str) -> str | None:
    return shutil.which(tool) or next(
        (str(p) for p in (Path("/usr/sbin") / tool, Path("/usr/bin") / tool) if p.exists()), None
    )


def spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def wait_live(
    url: str, proc: subprocess.Popen[bytes], log: Path, path: str = "/health/live"
) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + path, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    sys.exit(f"{url} did not start:\n{log.read_text()[-3000:]}")


def nginx_conf(prefix: Path, port: int, upstream_port: int) -> Path:
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream agency {{ server 127.0.0.1:{upstream_port}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://agency;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""
    )
    return conf


_LAT = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, headers: dict[str, str], *, duration: int, connections: int) -> dict[str, Any]:
    cmd = [_which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    lat = {f"p{m[0]}_ms": round(float(m[1]) * _UNIT[m[2]], 3) for m in _LAT.findall(out)}
    return {
        "rps": round(rps, 1),
        "requests": total,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else None,
        **lat,
    }


def check(url: str, headers: dict[str, str]) -> None:
    r = httpx.get(url, headers=headers, timeout=5)
    if r.status_code != 200:
        sys.exit(f"{url} answered {r.status_code}: {r.text}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--sqlite-synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="the gateway's SQLite audit durability (GATEWAY_AUDIT_SQLITE_SYNCHRONOUS)",
    )
    args = parser.parse_args()
    ensure_tools()
    tmp = scratch_dir()
    log = tmp / "processes.log"
    identity = TestIdentity(tmp)
    gw_key = SigningKey.generate()
    (tmp / "gw-jwks.json").write_text(json.dumps(KeyRing(gw_key).jwks()))
    agency_port, gw_port, nginx_port = free_port(), free_port(), free_port()
    (tmp / "register.json").write_text(
        json.dumps(
            {
                "members": [
                    {
                        "agency": "registry",
                        "member_code": BINS["registry"],
                        "base_url": f"http://127.0.0.1:{agency_port}",
                        "operations": [{"method": "GET", "path": "/mesh/whoami"}],
                    }
                ],
                "grants": [["licensing", "registry:GET /mesh/whoami"]],
            }
        )
    )
    common = {"MESH_LOG_LEVEL": "WARNING", "MESH_KAFKA_ENABLED": "false"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            spawn(
                [sys.executable, "-m", "egov_registry"],
                {
                    **common,
                    "REGISTRY_PORT": str(agency_port),
                    "REGISTRY_DATA_DIR": str(tmp / "registry"),
                    "REGISTRY_GATEWAY_JWKS_URL": f"file://{tmp / 'gw-jwks.json'}",
                },
                log,
            )
        )
        procs.append(
            spawn(
                [sys.executable, "-m", "egov_gateway"],
                {
                    **common,
                    "GATEWAY_PORT": str(gw_port),
                    "GATEWAY_DATA_DIR": str(tmp / "gateway"),
                    "GATEWAY_SIGNING_KEY_PEM": gw_key.private_pem().decode(),
                    "GATEWAY_IDENTITY_JWKS_URL": identity.jwks_url,
                    "GATEWAY_IDENTITY_ISSUER": ISSUER,
                    "GATEWAY_REGISTER_FILE": str(tmp / "register.json"),
                    "GATEWAY_RATE_LIMIT_AGENCY_RPS": "0",  # measure the path, not the limiter
                    "GATEWAY_AUDIT_SQLITE_SYNCHRONOUS": args.sqlite_synchronous,
                },
                log,
            )
        )
        nginx_dir = tmp / "nginx"
        nginx_dir.mkdir()
        conf = nginx_conf(nginx_dir, nginx_port, agency_port)
        procs.append(
            spawn(
                [
                    _which("nginx") or "nginx",
                    "-c",
                    str(conf),
                    "-p",
                    str(nginx_dir),
                    "-g",
                    "daemon off;",
                ],
                {},
                log,
            )
        )
        agency_url = f"http://127.0.0.1:{agency_port}"
        gw_url = f"http://127.0.0.1:{gw_port}"
        nginx_url = f"http://127.0.0.1:{nginx_port}"
        wait_live(agency_url, procs[0], log)
        wait_live(gw_url, procs[1], log)
        wait_live(nginx_url, procs[2], log)

        rid = "bench-presigned-0001"
        assertion = sign_assertion(
            gw_key,
            agency="registry",
            method="GET",
            path="/mesh/whoami",
            client="licensing",
            user=None,
            request_id=rid,
            purpose="benchmark",
            ttl_s=3600,
        )
        direct_headers = {"X-Mesh-Assertion": assertion, "X-Request-Id": rid}
        gw_headers = {
            "Authorization": f"Bearer {identity.token('agency', 'licensing', ttl=3600)}",
            "X-Mesh-Purpose": "benchmark",
        }
        paths = {
            "direct": (f"{agency_url}/mesh/whoami", direct_headers),
            "gateway": (f"{gw_url}/x/registry/mesh/whoami", gw_headers),
            "nginx": (f"{nginx_url}/mesh/whoami", direct_headers),
        }
        for url, headers in paths.values():
            check(url, headers)
        results: dict[str, Any] = {}
        for name, (url, headers) in paths.items():
            wrk(url, headers, duration=args.warmup, connections=args.connections)
            results[name] = wrk(url, headers, duration=args.duration, connections=args.connections)
        # every call through the gateway left a durable audit record
        db = tmp / "gateway" / "gateway.db"
        with sqlite3.connect(db) as conn:
            audited = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        figures = report(results, args, audited)
        save("gateway", figures)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def report(results: dict[str, Any], args: argparse.Namespace, audited: int) -> dict[str, Any]:
    d, g, n = results["direct"], results["gateway"], results["nginx"]
    ratio = g["rps"] / d["rps"] if d["rps"] else 0.0
    added = g["p50_ms"] - d["p50_ms"]
    figures = {
        "tool": "wrk",
        "audit_sqlite_synchronous": args.sqlite_synchronous,
        "connections": args.connections,
        "duration_s": args.duration,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "direct": d,
        "gateway": g,
        "nginx": n,
        "gateway_vs_direct_throughput": round(ratio, 3),
        "nginx_vs_direct_throughput": round(n["rps"] / d["rps"], 3) if d["rps"] else 0.0,
        "gateway_vs_nginx_throughput": round(g["rps"] / n["rps"], 3) if n["rps"] else 0.0,
        "gateway_added_p50_ms": round(added, 3),
        "nginx_added_p50_ms": round(n["p50_ms"] - d["p50_ms"], 3),
        "audit_records": audited,
        "targets": {
            "throughput_ratio_min": TARGET_THROUGHPUT,
            "added_p50_ms_max": TARGET_ADDED_P50_MS,
            "throughput_met": ratio >= TARGET_THROUGHPUT,
            "latency_met": added < TARGET_ADDED_P50_MS,
        },
    }
    rows = [
        (
            name,
            f"{r['rps']:>9.1f} req/s   p50 {r['p50_ms']:.2f} ms   p99 {r['p99_ms']:.2f} ms"
            f"   ({r['requests']} requests, non-2xx {r['non_2xx']})",
        )
        for name, r in results.items()
    ]
    rows += [
        (
            "gateway / direct",
            f"{ratio:.2f} of the throughput, +{added:.2f} ms at p50 "
            f"(targets ≥ {TARGET_THROUGHPUT:.2f}, < {TARGET_ADDED_P50_MS} ms)",
        ),
        (
            "nginx / direct",
            f"{figures['nginx_vs_direct_throughput']:.2f} of the throughput, "
            f"+{figures['nginx_added_p50_ms']:.2f} ms at p50",
        ),
        ("gateway / nginx", f"{figures['gateway_vs_nginx_throughput']:.2f} of the throughput"),
        ("audit records", f"{audited} (warm-up + measured gateway calls, all durable)"),
        ("load average", " ".join(f"{x:.2f}" for x in figures["load_average"])),
    ]
    print_table(
        f"gateway overhead — wrk -t1 -c{args.connections} -d{args.duration}s, GET /mesh/whoami",
        rows,
    )
    return figures


if __name__ == "__main__":
    main()
