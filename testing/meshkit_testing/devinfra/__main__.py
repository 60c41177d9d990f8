"""CLI: ``python -m meshkit_testing.devinfra kafka|postgres start|stop|status|kill|restart``;
``python -m meshkit_testing.devinfra kafka-tool <script> [args…]`` runs one of Kafka's own tools
(``kafka-consumer-groups.sh``, ``kafka-topics.sh``, ``kafka-producer-perf-test.sh``,
``kafka-consumer-perf-test.sh``) from the pinned jars, against any broker.

``start`` prints what clients need on stdout (Kafka: the bootstrap servers; PostgreSQL:
the server URL, then one URL per ``--databases`` entry); progress goes to stderr.
``status`` exits 0 when the service runs, 3 when it does not.

``kafka start --sasl`` (or ``MESH_KAFKA_SASL=1``) secures a new broker as deployments are:
SASL/SCRAM-SHA-512, ACLs enforced, one user per service with the ACLs of
``meshkit.kafka_acls`` applied; the passwords are in ``<data-dir>/sasl-users.json``.

Environment overrides (no local process is started or stopped then):
  KAFKA_BOOTSTRAP_SERVERS   an existing broker: ``kafka start`` waits for it and prints it
  MESH_TEST_POSTGRES_URL    an existing server (postgresql+asyncpg://user:pw@host:port/postgres)
  MESH_REPO_ROOT            the repository root (default: nearest parent with uv.lock)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from meshkit_testing.devinfra import InfraError, find_repo_root
from meshkit_testing.devinfra.kafka import KAFKA_TOOLS, SASL_ENV

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
POSTGRES_ENV = "MESH_TEST_POSTGRES_URL"

EXIT_NOT_RUNNING = 3


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m meshkit_testing.devinfra",
        description="Run the local Kafka / PostgreSQL used for development and tests.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    kinds = parser.add_subparsers(dest="kind", required=True)

    kafka = kinds.add_parser("kafka", help="Apache Kafka (KRaft, single node)")
    kafka.add_argument("action", choices=["start", "stop", "status", "kill", "restart"])
    kafka.add_argument("--port", type=int, help="client port (default: last used, else 9092)")
    kafka.add_argument(
        "--controller-port", type=int, help="KRaft controller port (default: last used, else 9093)"
    )
    kafka.add_argument("--data-dir", type=Path, help="default: <repo>/.run/kafka")
    kafka.add_argument("--timeout", type=float, default=120.0, help="start timeout (s)")
    kafka.add_argument(
        "--sasl",
        action="store_true",
        default=os.environ.get(SASL_ENV, "").strip().lower() in ("1", "true", "yes"),
        help=f"SASL/SCRAM + per-agency ACLs (a new data dir; also {SASL_ENV}=1)",
    )

    tool = kinds.add_parser(
        "kafka-tool", help="run one of Kafka's bin/ tools from the pinned jars (any broker)"
    )
    tool.add_argument("tool", choices=sorted(KAFKA_TOOLS))
    tool.add_argument("args", nargs=argparse.REMAINDER, help="the tool's own arguments")

    pg = kinds.add_parser("postgres", help="PostgreSQL (throwaway local cluster)")
    pg.add_argument("action", choices=["start", "stop", "status", "kill", "restart"])
    pg.add_argument("--port", type=int, help="default: last used, else a free port")
    pg.add_argument("--databases", default="", help="comma-separated databases to create")
    pg.add_argument("--data-dir", type=Path, help="default: <repo>/.run/postgres")
    pg.add_argument("--timeout", type=float, default=60.0, help="start timeout (s)")
    return parser


def _kafka(args: argparse.Namespace, repo: Path) -> int:
    from meshkit_testing.devinfra.kafka import LocalKafka, kafka_ready, wait_for_kafka

    external = os.environ.get(KAFKA_ENV, "").strip()
    if external:
        if args.action in ("start", "restart"):
            _err(f"{KAFKA_ENV} is set: waiting for the broker at {external}")
            wait_for_kafka(external, timeout=args.timeout)
            print(external)
            return 0
        if args.action == "status":
            ready = kafka_ready(external)
            print(json.dumps({"kind": "kafka", "external": True, "ready": ready,
                              "bootstrap_servers": external}, indent=2))  # fmt: skip
            return 0 if ready else EXIT_NOT_RUNNING
        if args.action == "stop":
            _err(f"{KAFKA_ENV} is set: the broker at {external} is not ours; nothing to stop")
            return 0
        _err(f"{KAFKA_ENV} is set: cannot {args.action} the external broker at {external}")
        return 2

    kafka = LocalKafka.from_state(repo, data_dir=args.data_dir)
    if args.port is not None:
        kafka.port = args.port
    if args.controller_port is not None:
        kafka.controller_port = args.controller_port
    if args.sasl and kafka.sasl_users is None:
        import secrets

        from meshkit import kafka_acls
        from meshkit_testing.devinfra.kafka import ADMIN_USER

        names = [ADMIN_USER, *kafka_acls.declaration().principals]
        kafka.sasl_users = {name: secrets.token_hex(16) for name in names}

    if args.action in ("start", "restart"):
        running = kafka.pid()
        if args.action == "restart":
            kafka.stop()
        elif running is not None:
            recorded = LocalKafka.from_state(repo, data_dir=args.data_dir)
            if recorded.port != kafka.port:
                _err(f"Kafka already runs on port {recorded.port} (pid {running}); "
                     f"stop it first to change ports")  # fmt: skip
                return 2
        begin = time.monotonic()
        if not kafka.is_installed():
            _err(f"installing Kafka jars into {kafka.libs_dir} (Maven) ...")
            kafka.ensure_installed()
            _err(f"  installed in {time.monotonic() - begin:.1f}s")
        _err(f"starting Kafka on {kafka.bootstrap_servers} (data: {kafka.data_dir}) ...")
        kafka.start(timeout=args.timeout)
        if kafka.sasl:
            from meshkit import kafka_acls

            declared = set(kafka_acls.declaration().principals)
            users = [u for u in (kafka.sasl_users or {}) if u in declared]
            asyncio.run(kafka.apply_acls(kafka_acls.bindings(users)))
            _err(f"  SASL/SCRAM-SHA-512 with ACLs; passwords in {kafka.sasl_file}: run a service "
                 "with MESH_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT MESH_KAFKA_SASL_USERNAME=<it> "
                 "MESH_KAFKA_SASL_PASSWORD=<its password>")  # fmt: skip
        _err(f"  ready after {time.monotonic() - begin:.1f}s (pid {kafka.pid()})")
        print(kafka.bootstrap_servers)
        return 0
    if args.action == "stop":
        kafka.stop()
        _err("Kafka stopped")
        return 0
    if args.action == "kill":
        kafka.kill()
        _err("Kafka killed (SIGKILL); storage kept")
        return 0
    status = kafka.status()
    print(json.dumps(status, indent=2))
    return 0 if status["running"] else EXIT_NOT_RUNNING


def _postgres(args: argparse.Namespace, repo: Path) -> int:
    from meshkit_testing.devinfra.postgres import (
        LocalPostgres,
        create_database_at,
        database_url,
        wait_for_postgres,
    )

    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    external = os.environ.get(POSTGRES_ENV, "").strip()
    if external:
        if args.action in ("start", "restart"):
            _err(f"{POSTGRES_ENV} is set: waiting for the server")
            wait_for_postgres(external, timeout=args.timeout)
            print(database_url(external, "postgres"))
            for name in databases:
                print(create_database_at(external, name))
            return 0
        if args.action == "status":
            try:
                wait_for_postgres(external, timeout=3)
            except InfraError as exc:
                _err(str(exc))
                return EXIT_NOT_RUNNING
            print(json.dumps({"kind": "postgres", "external": True, "ready": True}, indent=2))
            return 0
        if args.action == "stop":
            _err(f"{POSTGRES_ENV} is set: the server is not ours; nothing to stop")
            return 0
        _err(f"{POSTGRES_ENV} is set: cannot {args.action} an external server")
        return 2

    pg = LocalPostgres(repo, port=args.port, data_dir=args.data_dir)
    if args.action in ("start", "restart"):
        if args.action == "restart":
            pg.stop()
        elif pg.is_running() and args.port is not None:
            recorded = LocalPostgres(repo, data_dir=args.data_dir)
            if recorded.port != args.port:
                _err(f"PostgreSQL already runs on port {recorded.port}; stop it first")
                return 2
        begin = time.monotonic()
        _err(f"starting PostgreSQL on 127.0.0.1:{pg.port} (data: {pg.data_dir}) ...")
        pg.start(timeout=args.timeout)
        _err(f"  ready after {time.monotonic() - begin:.1f}s")
        print(pg.server_url)
        for name in databases:
            print(pg.create_database(name))
        return 0
    if args.action == "stop":
        pg.stop()
        _err("PostgreSQL stopped")
        return 0
    if args.action == "kill":
        pg.kill()
        _err("PostgreSQL killed (SIGKILL); data kept")
        return 0
    status = pg.status()
    print(json.dumps(status, indent=2))
    return 0 if status["running"] else EXIT_NOT_RUNNING


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        repo = find_repo_root()
        if args.kind == "kafka":
            return _kafka(args, repo)
        if args.kind == "kafka-tool":
            from meshkit_testing.devinfra.kafka import LocalKafka

            cmd = LocalKafka(repo).tool_command(args.tool, *args.args)
            return subprocess.call(cmd, stdin=subprocess.DEVNULL)
        return _postgres(args, repo)
    except InfraError as exc:
        _err(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
