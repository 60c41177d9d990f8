"""Gateway overhead benchmark: the same trivial agency operation three ways, in one run.

1. direct     wrk → agency (svc-registry under uvicorn) ``GET /mesh/whoami``
2. gateway    wrk → gateway ``GET /x/registry/mesh/whoami`` → agency, with everything on:
              agency token verified (JWKS), ACL grant checked, purpose, fresh X-Mesh-Assertion
              signed per call, request id + traceparent, breaker, and an audit record
              committed (group commit, SQLite WAL, synchronous=NORMAL, the default) before
              each answer
   gateway-fsync  the same with GATEWAY_AUDIT_SQLITE_SYNCHRONOUS=FULL (fsync per group commit)
3. nginx      wrk → nginx (Debian's, plain process, own config, keep-alive upstream) → agency

Fairness: the agency endpoint verifies an X-Mesh-Assertion on every path. Through the gateway
it is a fresh one per call; on the direct and nginx paths a wrk script sends, per request, one
of a list of assertions pre-signed by the same gateway key (each with its X-Request-Id: agencies
refuse a replayed one), so the agency does the same checks on all three paths. The agency and the gateway
are separate uvicorn processes with the same log level (WARNING); wrk uses one thread and a few
keep-alive connections for ``--duration`` seconds per path after a short warm-up, then one
connection for ``--latency-duration`` seconds (latency without queueing). The paths take turns
for ``--rounds`` rounds and each figure is the median of its rounds: on two shared cores one
leg alone can catch a noisy neighbour, and a ratio of two single legs then says little.

    uv run python tests/bench/gateway.py [--duration 10] [--connections 8] [--rounds 3]
                                         [--compare]

``--compare`` asks whether the gateway's own hot-path machinery still earns its keep: instead
of gateway-fsync and nginx it runs, in the same rounds, the gateway four ways — its own HTTP/1.1
agency transport or httpx's ``AsyncHTTPTransport``, each served through the fast lane
(``meshkit.fastlane``) or through FastAPI's full middleware stack (:data:`VARIANT_LAUNCHER`).

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
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from common import print_table, save, scratch_dir

from meshkit.auth.assertion import sign_assertion
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit_testing.devinfra import free_port
from meshkit_testing.gateway import BINS, ISSUER, TestIdentity

TARGET_THROUGHPUT = 0.5  # gateway keeps ≥ 50 % of direct requests/s
TARGET_ADDED_P50_MS = 2.0

# --compare: the gateway with its lean agency transport and/or fast lane switched off, for this
# process only (the product has one configuration; this measures whether it is still needed)
VARIANT_LAUNCHER = """
import os, httpx
import egov_gateway.bootstrap as bootstrap, meshkit.service as service
variant = os.environ["BENCH_GATEWAY_VARIANT"]
if "httpx" in variant:
    bootstrap.AgencyTransport = lambda *, max_connections, fallback: fallback
if "stack" in variant:
    service.install_fast_lanes = lambda *a, **kw: None
from egov_gateway.__main__ import create_app, definition, main
main(definition, create_app, proxy_headers=False)
"""
COMPARED = {
    "gateway": None,  # lean transport, fast lane: as shipped
    "gw-httpx": "httpx",
    "gw-stack": "stack",
    "gw-httpx-stack": "httpx+stack",
}


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


Signer = Callable[[int], list[tuple[str, str]]]


def _lua_script(path: Path, signed: list[tuple[str, str]]) -> Path:
    """A wrk script sending each pre-signed (assertion, request id) once: agencies refuse a
    replayed assertion, so the direct and nginx legs need a fresh one per request too."""
    rows = ",\n".join(f'{{"{a}","{r}"}}' for a, r in signed)
    path.write_text(
        f"local signed = {{\n{rows}\n}}\nlocal i = 0\n"
        "request = function()\n"
        "  i = i % #signed + 1\n"
        '  wrk.headers["X-Mesh-Assertion"] = signed[i][1]\n'
        '  wrk.headers["X-Request-Id"] = signed[i][2]\n'
        "  return wrk.format()\n"
        "end\n"
    )
    return path


def wrk(
    url: str,
    headers: dict[str, str],
    *,
    duration: int,
    connections: int,
    signer: Signer | None = None,
    script_dir: Path | None = None,
) -> dict[str, Any]:
    cmd = [_which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if signer is not None:
        assert script_dir is not None
        # enough for the fastest leg seen here (~3,000 req/s) with room to spare
        script = _lua_script(script_dir / f"signed-{time.time_ns()}.lua", signer(duration * 4000))
        cmd += ["-s", str(script)]
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


def median_of(legs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds (requests and errors summed); rounds kept as run."""
    out: dict[str, Any] = {
        "requests": sum(leg["requests"] for leg in legs),
        "non_2xx": sum(leg["non_2xx"] for leg in legs),
        "socket_errors": [leg["socket_errors"] for leg in legs if leg["socket_errors"]] or None,
    }
    for key in ("rps", "p50_ms", "p75_ms", "p90_ms", "p99_ms", "c1_p50_ms", "c1_p99_ms"):
        values = [leg[key] for leg in legs if key in leg]
        if values:
            out[key] = round(statistics.median(values), 3)
    out["rounds"] = legs
    return out


def check(url: str, headers: dict[str, str]) -> None:
    r = httpx.get(url, headers=headers, timeout=5)
    if r.status_code != 200:
        sys.exit(f"{url} answered {r.status_code}: {r.text}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--latency-duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="the gateway four ways")
    args = parser.parse_args()
    ensure_tools()
    tmp = scratch_dir()
    log = tmp / "processes.log"
    identity = TestIdentity(tmp)
    gw_key = SigningKey.generate()
    (tmp / "gw-jwks.json").write_text(json.dumps(KeyRing(gw_key).jwks()))
    agency_port, gw_port, nginx_port = free_port(), free_port(), free_port()
    gw_fsync_port = free_port()
    gateways = (
        [(free_port(), name, "NORMAL", variant) for name, variant in COMPARED.items()]
        if args.compare
        else [(gw_port, "gateway", "NORMAL", None), (gw_fsync_port, "gateway-fsync", "FULL", None)]
    )
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
        for port, name, sync, variant in gateways:
            launch = ["-c", VARIANT_LAUNCHER] if variant else ["-m", "egov_gateway"]
            procs.append(
                spawn(
                    [sys.executable, *launch],
                    {
                        "BENCH_GATEWAY_VARIANT": variant or "",
                        **common,
                        "GATEWAY_PORT": str(port),
                        "GATEWAY_DATA_DIR": str(tmp / name),
                        "GATEWAY_SIGNING_KEY_PEM": gw_key.private_pem().decode(),
                        "GATEWAY_IDENTITY_JWKS_URL": identity.jwks_url,
                        "GATEWAY_IDENTITY_ISSUER": ISSUER,
                        "GATEWAY_REGISTER_FILE": str(tmp / "register.json"),
                        "GATEWAY_RATE_LIMIT_AGENCY_RPS": "0",  # measure the path, not the limiter
                        "GATEWAY_RATE_LIMIT_SOURCE_RPS": "0",  # wrk is one address
                        "GATEWAY_AUDIT_SQLITE_SYNCHRONOUS": sync,
                    },
                    log,
                )
            )
        if not args.compare:
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
        gw_urls = {name: f"http://127.0.0.1:{port}" for port, name, _, _ in gateways}
        nginx_url = f"http://127.0.0.1:{nginx_port}"
        urls = [agency_url, *gw_urls.values()] + ([] if args.compare else [nginx_url])
        for url, proc in zip(urls, procs, strict=True):
            wait_live(url, proc, log)

        def signer(n: int) -> list[tuple[str, str]]:
            out = []
            for _ in range(n):
                rid = f"bench-{uuid.uuid4().hex}"
                out.append(
                    (
                        sign_assertion(
                            gw_key,
                            agency="registry",
                            method="GET",
                            path="/mesh/whoami",
                            client="licensing",
                            user=None,
                            request_id=rid,
                            purpose="benchmark",
                            ttl_s=3600,
                        ),
                        rid,
                    )
                )
            return out

        first_assertion, first_rid = signer(1)[0]
        direct_headers = {"X-Mesh-Assertion": first_assertion, "X-Request-Id": first_rid}
        gw_headers = {
            "Authorization": f"Bearer {identity.token('agency', 'licensing', ttl=3600)}",
            "X-Mesh-Purpose": "benchmark",
        }
        paths: dict[str, tuple[str, dict[str, str], Signer | None]] = {
            "direct": (f"{agency_url}/mesh/whoami", {}, signer),
            **{
                name: (f"{url}/x/registry/mesh/whoami", gw_headers, None)
                for name, url in gw_urls.items()
            },
        }
        if not args.compare:
            paths["nginx"] = (f"{nginx_url}/mesh/whoami", {}, signer)
        check(paths["direct"][0], direct_headers)
        for url, headers, sign in paths.values():
            if sign is None:
                check(url, headers)
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in paths}
        for _ in range(max(1, args.rounds)):
            for name, (url, headers, sign) in paths.items():
                kw: dict[str, Any] = {"signer": sign, "script_dir": tmp}
                wrk(url, headers, duration=args.warmup, connections=args.connections, **kw)
                leg = wrk(url, headers, duration=args.duration, connections=args.connections, **kw)
                # latency without queueing: one connection, one request at a time
                single = wrk(url, headers, duration=args.latency_duration, connections=1, **kw)
                leg["c1_p50_ms"] = single["p50_ms"]
                leg["c1_p99_ms"] = single["p99_ms"]
                rounds[name].append(leg)
        results = {name: median_of(legs) for name, legs in rounds.items()}
        # every call through the gateway left a durable audit record
        audited = 0
        for name in gw_urls:
            with sqlite3.connect(tmp / name / "gateway.db") as conn:
                audited += conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        figures = report(results, args, audited)
        save("gateway-compare" if args.compare else "gateway", figures)
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
    d = results["direct"]

    def vs_direct(r: dict[str, Any]) -> dict[str, float]:
        return {
            "throughput_ratio": round(r["rps"] / d["rps"], 3) if d["rps"] else 0.0,
            "added_p50_ms_loaded": round(r["p50_ms"] - d["p50_ms"], 3),
            "added_p50_ms_single": round(r["c1_p50_ms"] - d["c1_p50_ms"], 3),
        }

    compared = {name: vs_direct(r) for name, r in results.items() if name != "direct"}
    g = compared["gateway"]
    figures = {
        "tool": "wrk",
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        **results,
        "vs_direct": compared,
        "gateway_vs_nginx_throughput": (
            round(results["gateway"]["rps"] / results["nginx"]["rps"], 3)
            if "nginx" in results
            else None
        ),
        "audit_records": audited,
        "targets": {
            "throughput_ratio_min": TARGET_THROUGHPUT,
            "added_p50_ms_max": TARGET_ADDED_P50_MS,
            "throughput_met": g["throughput_ratio"] >= TARGET_THROUGHPUT,
            "latency_met_single": g["added_p50_ms_single"] < TARGET_ADDED_P50_MS,
            "latency_met_loaded": g["added_p50_ms_loaded"] < TARGET_ADDED_P50_MS,
        },
    }
    rows = [
        (
            name,
            f"{r['rps']:>8.1f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"
            f"  | 1 conn: p50 {r['c1_p50_ms']:.2f} ms  p99 {r['c1_p99_ms']:.2f} ms"
            f"  ({r['requests']} req, non-2xx {r['non_2xx']})",
        )
        for name, r in results.items()
    ]
    for name, c in compared.items():
        rows.append(
            (
                f"{name} / direct",
                f"{c['throughput_ratio']:.2f} of the throughput; p50 +{c['added_p50_ms_single']:.2f}"
                f" ms (1 conn), +{c['added_p50_ms_loaded']:.2f} ms ({args.connections} conns)",
            )
        )
    rows += [
        (
            "targets",
            f"throughput ≥ {TARGET_THROUGHPUT:.2f} of direct, p50 + < {TARGET_ADDED_P50_MS} ms",
        ),
        ("audit records", f"{audited} (every gateway call, durable before its answer)"),
        ("load average", " ".join(f"{x:.2f}" for x in figures["load_average"])),
    ]
    for name, r in results.items():
        rows.append(
            (
                f"{name}, each round",
                "  ".join(
                    f"{leg['rps']:.0f}/s {leg['p50_ms']:.2f}|{leg['c1_p50_ms']:.2f} ms"
                    for leg in r["rounds"]
                ),
            )
        )
    print_table(
        f"gateway overhead — wrk -t1 -c{args.connections} -d{args.duration}s (and -c1), "
        f"GET /mesh/whoami on svc-registry, median of {args.rounds} rounds",
        rows,
    )
    return figures


if __name__ == "__main__":
    main()
