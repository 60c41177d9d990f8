"""A pinned Apache Kafka broker (KRaft combined mode, one node) run as a local process.

The jars come from Maven Central through ``deploy/local/pom.xml`` into
``<repo>/.cache/kafka/<version>/libs``; the broker's data lives in ``<repo>/.run/kafka``
unless another ``data_dir`` is given. No Docker and no Kafka tarball are needed.

Typical use::

    kafka = LocalKafka(repo_root)
    kafka.start()                       # installs, formats and starts when needed
    print(kafka.bootstrap_servers)      # 127.0.0.1:9092
    kafka.kill()                        # SIGKILL, storage kept
    kafka.start()                       # resumes with all acknowledged data
    kafka.stop()

With ``sasl_users`` the broker is secured as a multi-agency deployment is (the plaintext
default is for ``make run`` on loopback): one SASL_PLAINTEXT listener, SCRAM-SHA-512
users created at format time, the ``StandardAuthorizer`` with ``super.users=User:admin``
and ``allow.everyone.if.no.acl.found=false``; :meth:`LocalKafka.apply_acls` grants what
``meshkit.kafka_acls`` declares::

    kafka = LocalKafka(repo_root, sasl_users={"identity": pw1, "registry": pw2})
    kafka.start()
    await kafka.apply_acls(kafka_acls.bindings(["identity", "registry"]))
    kafka.client_security("identity")   # KafkaSecuritySettings for make_producer/_consumer
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import struct
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshkit_testing.devinfra import (
    InfraError,
    file_lock,
    kill_and_wait,
    log_tail,
    parse_host_port,
    pid_alive,
    pid_cmdline,
    port_open,
    read_json,
    require_executable,
    spawn_watchdog,
    terminate_and_wait,
    write_json,
)

if TYPE_CHECKING:
    from meshkit.kafka_acls import AclBinding
    from meshkit.settings import KafkaSecuritySettings

__all__ = [
    "KAFKA_TOOLS",
    "KAFKA_VERSION",
    "LocalKafka",
    "kafka_ready",
    "wait_for_kafka",
]

log = logging.getLogger(__name__)

#: Keep in sync with <kafka.version> in deploy/local/pom.xml.
KAFKA_VERSION = "4.3.1"
KAFKA_JAR = f"kafka_2.13-{KAFKA_VERSION}.jar"

#: Extra JVM options appended to the broker's command line (space separated).
JVM_OPTS_ENV = "MESH_KAFKA_JVM_OPTS"
#: Set to 0 to disable the AppCDS class-data archive that speeds up JVM start.
CDS_ENV = "MESH_KAFKA_CDS"

#: Kafka's own command-line tools: the script in a Kafka distribution's ``bin/`` -> the main
#: class it runs (``kafka-run-class.sh <class>``); the pinned jars hold them all.
KAFKA_TOOLS: Mapping[str, str] = {
    "kafka-producer-perf-test.sh": "org.apache.kafka.tools.ProducerPerformance",
    "kafka-consumer-perf-test.sh": "org.apache.kafka.tools.ConsumerPerformance",
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-consumer-groups.sh": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-acls.sh": "org.apache.kafka.tools.AclCommand",
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
}

#: ``MESH_KAFKA_SASL=1``: ``python -m meshkit_testing.devinfra kafka start`` secures the broker.
SASL_ENV = "MESH_KAFKA_SASL"
#: the super user of a SASL broker (ACLs are applied as it)
ADMIN_USER = "admin"
SCRAM = "SCRAM-SHA-512"

_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
# Kafka's AclOperation / ResourceType / PatternType / AclPermissionType codes (CreateAcls)
_ACL_OPERATIONS = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8}
_RESOURCE_TYPES = {"TOPIC": 2, "GROUP": 3}
_LITERAL = 3
_ALLOW = 3

_API_VERSIONS = 18
_METADATA = 3


# --------------------------------------------------------------------------- readiness probe


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        chunks += chunk
    return bytes(chunks)


def _request(
    sock: socket.socket, api_key: int, version: int, correlation_id: int, body: bytes
) -> bytes:
    """One request/response round trip (non-flexible request header v1)."""
    client_id = b"meshkit-devinfra"
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    response = _recv_exact(sock, size)
    (got_id,) = struct.unpack_from(">i", response, 0)
    if got_id != correlation_id:
        raise ConnectionError(f"correlation id mismatch ({got_id} != {correlation_id})")
    return response[4:]


def _probe_one(host: str, port: int, timeout: float) -> bool:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        # ApiVersions v0: every broker version answers it.
        body = _request(sock, _API_VERSIONS, 0, 1, b"")
        error_code, count = struct.unpack_from(">hi", body, 0)
        if error_code != 0:
            return False
        ranges: dict[int, tuple[int, int]] = {}
        for i in range(count):
            key, low, high = struct.unpack_from(">hhh", body, 6 + 6 * i)
            ranges[key] = (low, high)
        if _METADATA not in ranges:
            return False
        low, high = ranges[_METADATA]
        version = max(4, low)
        if version > min(high, 8):
            return True  # only flexible Metadata versions: ApiVersions answered, good enough
        # Metadata v4..v8, all topics (null array), no auto-creation.
        body = _request(sock, _METADATA, version, 2, struct.pack(">ib", -1, 0))
        (_throttle_ms, broker_count) = struct.unpack_from(">ii", body, 0)
        return bool(broker_count >= 1)


def kafka_ready(bootstrap_servers: str, timeout: float = 2.0) -> bool:
    """True when a broker of *bootstrap_servers* answers an ApiVersions and a Metadata
    request (listing at least one live broker). Synchronous, stdlib only."""
    for address in bootstrap_servers.split(","):
        if not address.strip():
            continue
        host, port = parse_host_port(address, 9092)
        try:
            if _probe_one(host, port, timeout):
                return True
        except (OSError, ConnectionError, struct.error):
            continue
    return False


def wait_for_kafka(bootstrap_servers: str, timeout: float = 90.0) -> None:
    """Block until :func:`kafka_ready` or raise :class:`InfraError` after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while not kafka_ready(bootstrap_servers):
        if time.monotonic() >= deadline:
            raise InfraError(f"Kafka at {bootstrap_servers} did not answer within {timeout:.0f}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


# --------------------------------------------------------------------------- LocalKafka


def _new_cluster_id() -> str:
    """A random Kafka cluster id (22 characters, URL-safe base64 of 16 random bytes)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):  # a leading '-' would look like a CLI flag
            return cid


class LocalKafka:
    """One local Apache Kafka node in KRaft combined mode (broker + controller).

    Ports bind to 127.0.0.1 only. State: ``<data_dir>/kraft-logs`` (the log dirs),
    ``<data_dir>/logs`` (server.log, kafka.out), ``<data_dir>/kafka.pid`` and
    ``<data_dir>/state.json``.
    """

    #: kill()/restart() really kill/restart a process (fault-injection tests can run).
    supports_fault_injection = True

    def __init__(
        self,
        repo_root: Path,
        port: int = 9092,
        controller_port: int = 9093,
        data_dir: Path | None = None,
        *,
        heap: str = "768m",
        extra_config: Mapping[str, str] | None = None,
        jvm_opts: Sequence[str] = (),
        owner_pid: int | None = None,
        cleanup_on_owner_exit: Path | None = None,
        sasl_users: Mapping[str, str] | None = None,
    ) -> None:
        self.repo_root = Path(repo_root).resolve()
        self.port = port
        self.controller_port = controller_port
        self.data_dir = (
            Path(data_dir) if data_dir is not None else self.repo_root / ".run" / "kafka"
        ).resolve()
        self.heap = heap
        self.extra_config = dict(extra_config or {})
        self.jvm_opts = list(jvm_opts)
        self.cache_dir = self.repo_root / ".cache" / "kafka" / KAFKA_VERSION
        self.libs_dir = self.cache_dir / "libs"
        self.pom = self.repo_root / "deploy" / "local" / "pom.xml"
        #: When set, a watchdog stops the broker if that process (e.g. pytest) dies.
        self.owner_pid = owner_pid
        self.cleanup_on_owner_exit = cleanup_on_owner_exit
        self._proc: subprocess.Popen[bytes] | None = None
        self.last_start_seconds: float | None = None
        #: SCRAM users (name -> password) of a SASL broker, ``admin`` included; None: plaintext
        self.sasl_users: dict[str, str] | None = None
        if sasl_users is not None:
            known = self._read_sasl_users()  # a restart keeps the passwords it formatted with
            self.sasl_users = {ADMIN_USER: secrets.token_hex(16), **known, **sasl_users}

    @classmethod
    def from_state(cls, repo_root: Path, data_dir: Path | None = None) -> LocalKafka:
        """A LocalKafka with the ports recorded by the last ``start()`` in *data_dir*."""
        kafka = cls(repo_root, data_dir=data_dir)
        state = read_json(kafka.state_file)
        kafka.port = int(state.get("port", kafka.port))
        kafka.controller_port = int(state.get("controller_port", kafka.controller_port))
        if state.get("sasl"):
            kafka.sasl_users = kafka._read_sasl_users()
        return kafka

    # ------------------------------------------------------------------ paths

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def kraft_dir(self) -> Path:
        return self.data_dir / "kraft-logs"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def server_log(self) -> Path:
        return self.log_dir / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.log_dir / "kafka.out"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.data_dir / "log4j2.properties"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    @property
    def sasl_file(self) -> Path:
        """The SCRAM users' passwords of a SASL broker (mode 0600, local dev only)."""
        return self.data_dir / "sasl-users.json"

    @property
    def sasl(self) -> bool:
        return self.sasl_users is not None

    def _read_sasl_users(self) -> dict[str, str]:
        users = read_json(self.sasl_file)
        return {str(k): str(v) for k, v in users.items()}

    def _write_sasl_users(self) -> None:
        assert self.sasl_users is not None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.sasl_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.sasl_users, out, indent=2)

    def client_security(self, user: str = ADMIN_USER) -> KafkaSecuritySettings:
        """How ``user`` connects (SASL_PLAINTEXT, SCRAM-SHA-512); PLAINTEXT when not SASL."""
        from meshkit.settings import KafkaSecuritySettings

        if self.sasl_users is None:
            return KafkaSecuritySettings(security_protocol="PLAINTEXT")
        return KafkaSecuritySettings(
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism=SCRAM,
            sasl_username=user,
            sasl_password=self.sasl_users[user],
        )

    @property
    def classpath(self) -> str:
        return f"{self.libs_dir}/*"

    def __repr__(self) -> str:
        return f"LocalKafka({self.bootstrap_servers}, data_dir={self.data_dir})"

    # ------------------------------------------------------------------ install

    def _pom_digest(self) -> str:
        try:
            return hashlib.sha256(self.pom.read_bytes()).hexdigest()
        except OSError as exc:
            raise InfraError(f"cannot read {self.pom}: {exc.strerror}") from exc

    def is_installed(self) -> bool:
        marker = self.cache_dir / ".installed"
        try:
            recorded = marker.read_text().strip()
        except OSError:
            return False
        return recorded == self._pom_digest() and (self.libs_dir / KAFKA_JAR).is_file()

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME", "").strip()
        if java_home and (Path(java_home) / "bin" / "java").is_file():
            return str(Path(java_home) / "bin" / "java")
        return require_executable("java", "default-jre-headless")

    def ensure_installed(self) -> None:
        """Fetch the pinned jars with Maven, unless a previous run already did."""
        if self.is_installed():
            return
        with file_lock(self.cache_dir.parent / f".{KAFKA_VERSION}.lock"):
            if self.is_installed():  # another process finished it while we waited
                return
            self._java()
            mvn = require_executable("mvn", "maven")
            digest = self._pom_digest()
            tmp = self.cache_dir / f"libs.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            cmd = [
                mvn, "-q", "-B", "-f", str(self.pom),
                "dependency:copy-dependencies", f"-DoutputDirectory={tmp}",
            ]  # fmt: skip
            log.info("installing Kafka %s jars: %s", KAFKA_VERSION, " ".join(cmd))
            started = time.monotonic()
            proc = subprocess.run(
                cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
            )
            if proc.returncode != 0 or not (tmp / KAFKA_JAR).is_file():
                output = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
                shutil.rmtree(tmp, ignore_errors=True)
                raise InfraError(
                    f"fetching the Kafka jars failed (exit {proc.returncode}):\n"
                    f"$ {' '.join(cmd)}\n{output}"
                )
            shutil.rmtree(self.libs_dir, ignore_errors=True)
            tmp.rename(self.libs_dir)
            for stale in self.cache_dir.glob("cds-*.jsa*"):
                stale.unlink(missing_ok=True)
            (self.cache_dir / ".installed").write_text(digest + "\n")
            log.info("Kafka jars installed in %.1fs", time.monotonic() - started)

    # ------------------------------------------------------------------ config

    def broker_config(self) -> dict[str, str]:
        config = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.kraft_dir),
            "auto.create.topics.enable": "true",
            "num.partitions": "3",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "share.coordinator.state.topic.num.partitions": "3",
            "group.initial.rebalance.delay.ms": "0",
            # After a SIGKILL the restarted controller still holds the old broker
            # registration until its session expires (DUPLICATE_BROKER_REGISTRATION):
            # a short session keeps kill/restart fast on this single node.
            "broker.heartbeat.interval.ms": "500",
            "broker.session.timeout.ms": "3000",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "2",
            "log.retention.hours": "168",
            "log.segment.bytes": str(256 * 1024 * 1024),
        }
        if self.sasl_users is not None:
            config.update(self._sasl_config())
        config.update(self.extra_config)
        return config

    def _sasl_config(self) -> dict[str, str]:
        """One SASL_PLAINTEXT client listener (SCRAM, users in the cluster metadata), the
        controller listener on SASL PLAIN (SCRAM cannot authenticate the controller: its
        credentials live in the metadata the controller serves), ACLs enforced."""
        assert self.sasl_users is not None
        admin = self.sasl_users[ADMIN_USER]
        scram_login = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{ADMIN_USER}" password="{admin}";'
        )
        plain_login = (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{ADMIN_USER}" password="{admin}" user_{ADMIN_USER}="{admin}";'
        )
        return {
            "listeners": (
                f"SASL_PLAINTEXT://127.0.0.1:{self.port},"
                f"CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{self.port}",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": (
                "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
            ),
            "sasl.enabled.mechanisms": SCRAM,
            "sasl.mechanism.inter.broker.protocol": SCRAM,
            "listener.name.sasl_plaintext.sasl.enabled.mechanisms": SCRAM,
            f"listener.name.sasl_plaintext.{SCRAM.lower()}.sasl.jaas.config": scram_login,
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": plain_login,
            "authorizer.class.name": _AUTHORIZER,
            "super.users": f"User:{ADMIN_USER}",
            "allow.everyone.if.no.acl.found": "false",
        }

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "# Generated by meshkit_testing.devinfra.kafka on every start; edits are overwritten."
        ]
        lines += [f"{key}={value}" for key, value in self.broker_config().items()]
        self.config_file.write_text("\n".join(lines) + "\n")
        self.log4j_file.write_text(
            "\n".join(
                [
                    "# Generated by meshkit_testing.devinfra.kafka.",
                    "status = warn",
                    "name = meshkit-kafka",
                    "appender.file.type = File",
                    "appender.file.name = FILE",
                    f"appender.file.fileName = {self.server_log}",
                    "appender.file.layout.type = PatternLayout",
                    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                    "rootLogger.level = INFO",
                    "rootLogger.appenderRef.file.ref = FILE",
                    "logger.statechange.name = state.change.logger",
                    "logger.statechange.level = WARN",
                    "logger.request.name = kafka.request.logger",
                    "logger.request.level = WARN",
                ]
            )
            + "\n"
        )

    @property
    def tools_log4j_file(self) -> Path:
        return self.data_dir / "log4j2-tools.properties"

    def _write_tools_log4j(self) -> None:
        """Console logging at WARN for one-shot tools (the storage format command)."""
        self.tools_log4j_file.write_text(
            "\n".join(
                [
                    "# Generated by meshkit_testing.devinfra.kafka.",
                    "status = warn",
                    "appender.console.type = Console",
                    "appender.console.name = STDERR",
                    "appender.console.target = SYSTEM_ERR",
                    "appender.console.layout.type = PatternLayout",
                    "appender.console.layout.pattern = [%d] %p %m (%c)%n",
                    "rootLogger.level = WARN",
                    "rootLogger.appenderRef.console.ref = STDERR",
                ]
            )
            + "\n"
        )

    def tool_command(self, tool: str, *args: str) -> list[str]:
        """The command line of one of Kafka's tools, as its ``bin/`` script would run it
        (``tool`` names the script, e.g. ``kafka-producer-perf-test.sh``; see
        :data:`KAFKA_TOOLS`). Installs the jars when needed; works against any broker."""
        try:
            main_class = KAFKA_TOOLS[tool]
        except KeyError:
            raise InfraError(f"unknown Kafka tool {tool!r}; known: {sorted(KAFKA_TOOLS)}") from None
        self.ensure_installed()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_tools_log4j()
        return [
            self._java(), "-Xmx512m", "-Xshare:auto", "-XX:+UseSerialGC",
            f"-Dlog4j2.configurationFile={self.tools_log4j_file}",
            "-cp", self.classpath, main_class, *args,
        ]  # fmt: skip

    def is_formatted(self) -> bool:
        return (self.kraft_dir / "meta.properties").is_file()

    def format_storage(self) -> None:
        """Format the KRaft storage with a fresh cluster id, unless already formatted."""
        if self.is_formatted():
            return
        self.ensure_installed()
        self._write_config()
        self._write_tools_log4j()
        cluster_id = _new_cluster_id()
        cmd = [
            self._java(), "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            f"-Dlog4j2.configurationFile={self.tools_log4j_file}",
            "-cp", self.classpath, "kafka.tools.StorageTool", "format",
            "--cluster-id", cluster_id, "--config", str(self.config_file), "--ignore-formatted",
        ]  # fmt: skip
        for user, password in (self.sasl_users or {}).items():
            cmd += ["--add-scram", f"{SCRAM}=[name={user},password={password}]"]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
        )
        if proc.returncode != 0 or not self.is_formatted():
            shown = [a if not a.startswith(SCRAM) else f"{SCRAM}=[…]" for a in cmd]  # no passwords
            raise InfraError(
                f"formatting Kafka storage failed (exit {proc.returncode}):\n"
                f"$ {' '.join(shown)}\n{(proc.stdout + proc.stderr).strip()}"
            )
        if self.sasl_users is not None:
            self._write_sasl_users()
        log.info("formatted Kafka storage in %s (cluster id %s)", self.kraft_dir, cluster_id)

    # ------------------------------------------------------------------ process

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _is_our_process(self, pid: int) -> bool:
        if not pid_alive(pid):
            return False
        cmdline = pid_cmdline(pid)
        if not cmdline:  # no procfs details: trust the pid file
            return True
        return "kafka.Kafka" in cmdline and str(self.config_file) in cmdline

    def _reap(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None

    def pid(self) -> int | None:
        """The broker's pid when it runs, else None."""
        self._reap()
        pid = self._read_pid()
        return pid if pid is not None and self._is_our_process(pid) else None

    def is_running(self) -> bool:
        """True when the broker process (from our pid file) is alive."""
        return self.pid() is not None

    def is_ready(self) -> bool:
        """True when the broker answers Kafka requests on its port (a SASL broker: to
        the admin, after authenticating)."""
        if self.sasl_users is None:
            return kafka_ready(self.bootstrap_servers, timeout=1.0)
        if not port_open("127.0.0.1", self.port, timeout=0.5):
            return False
        # a fresh loop in a worker thread: start() may be called from async code's thread
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._sasl_ready(2.0)).result()

    async def _sasl_ready(self, wait_s: float) -> bool:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers,
            request_timeout_ms=int(wait_s * 1000),
            **self.client_security().client_options(),
        )
        try:
            await asyncio.wait_for(admin.start(), wait_s)
            cluster = await asyncio.wait_for(admin.describe_cluster(), wait_s)
            return bool(cluster.get("brokers"))
        except Exception:  # not up yet, or authentication still loading: not ready
            return False
        finally:
            with contextlib.suppress(Exception):
                await admin.close()

    async def apply_acls(self, rules: Sequence[AclBinding]) -> None:
        """Create ``rules`` (ALLOW, LITERAL, any host) as the admin. aiokafka's admin client
        has no ACL call, so the CreateAcls request is sent as its protocol defines it."""
        from aiokafka.admin import AIOKafkaAdminClient
        from aiokafka.protocol.admin import CreateAclsRequest

        if self.sasl_users is None:
            raise InfraError("ACLs need a SASL broker: LocalKafka(..., sasl_users={...})")
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, **self.client_security().client_options()
        )
        await admin.start()
        try:
            for rule in rules:
                request = CreateAclsRequest(
                    _RESOURCE_TYPES[rule.resource_type],
                    rule.resource_name,
                    _LITERAL,
                    rule.principal,
                    "*",
                    _ACL_OPERATIONS[rule.operation],
                    _ALLOW,
                )
                response = await admin._send_request(request)  # private: see the docstring
                for error_code, message in response.creation_responses:
                    if error_code:
                        raise InfraError(f"creating ACL {rule} failed ({error_code}): {message}")
        finally:
            await admin.close()

    def _cds_flags(self, java: str) -> tuple[list[str], Path | None]:
        """AppCDS: reuse a class-data archive when there is one, else dump one at exit.

        Saves ~2 s of JVM start. The archive is written on a clean stop only (not on
        SIGKILL), to a temp name that ``stop()`` moves into place.
        """
        if os.environ.get(CDS_ENV, "1").strip() in ("0", "false", "no"):
            return [], None
        real = Path(java).resolve()
        try:
            stamp = f"{real}:{real.stat().st_mtime_ns}:{self._pom_digest()}"
        except OSError:
            return [], None
        key = hashlib.sha256(stamp.encode()).hexdigest()[:16]
        archive = self.cache_dir / f"cds-{key}.jsa"
        if archive.is_file() and archive.stat().st_size > 0:
            return [f"-XX:SharedArchiveFile={archive}"], None
        pending = self.cache_dir / f"cds-{key}.jsa.{uuid.uuid4().hex[:8]}.tmp"
        return [f"-XX:ArchiveClassesAtExit={pending}"], pending

    def _command(self) -> tuple[list[str], Path | None]:
        java = self._java()
        cds, pending = self._cds_flags(java)
        cmd = [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-UsePerfData",
            "-Xshare:auto",
            *cds,
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.log_dir}",
            f"-Dlog4j2.configurationFile={self.log4j_file}",
            *self.jvm_opts,
            *os.environ.get(JVM_OPTS_ENV, "").split(),
            "-cp",
            self.classpath,
            "kafka.Kafka",
            str(self.config_file),
        ]
        return cmd, pending

    def _failure(self, what: str) -> InfraError:
        return InfraError(
            f"{what}\n--- {self.stdout_log} (tail) ---\n{log_tail(self.stdout_log, 30)}"
            f"\n--- {self.server_log} (tail) ---\n{log_tail(self.server_log, 40)}"
        )

    def start(self, timeout: float = 90.0) -> None:
        """Install, format and start the broker; return once it answers requests.

        Idempotent: when our broker already runs this only waits for it to be ready.
        Raises :class:`InfraError` with the log tail when it dies or times out.
        """
        deadline = time.monotonic() + timeout
        if self.is_running():
            if self._wait_ready(deadline):
                return
            raise self._failure(
                f"Kafka (pid {self.pid()}) runs but did not answer on "
                f"{self.bootstrap_servers} within {timeout:.0f}s"
            )
        for port in (self.port, self.controller_port):
            if port_open("127.0.0.1", port, timeout=0.3):
                raise InfraError(
                    f"port {port} is already in use by another process; stop it, pick other "
                    f"ports, or point KAFKA_BOOTSTRAP_SERVERS at an existing broker"
                )
        self.ensure_installed()
        if self.is_formatted() and bool(read_json(self.state_file).get("sasl")) != self.sasl:
            raise InfraError(
                f"the storage in {self.data_dir} was formatted "
                f"{'with' if not self.sasl else 'without'} SASL; use another data dir"
            )
        self.format_storage()
        self._write_config()
        cmd, pending_cds = self._command()
        started = time.monotonic()
        with self.stdout_log.open("ab") as out:
            out.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting Kafka\n".encode())
            out.flush()
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
                close_fds=True,
            )
        self._proc = proc
        self.pid_file.write_text(f"{proc.pid}\n")
        write_json(
            self.state_file,
            {
                "pid": proc.pid,
                "port": self.port,
                "controller_port": self.controller_port,
                "bootstrap_servers": self.bootstrap_servers,
                "kafka_version": KAFKA_VERSION,
                "pending_cds_archive": str(pending_cds) if pending_cds else None,
                "sasl": self.sasl,
            },
        )
        while True:
            code = proc.poll()
            if code is not None:
                self._proc = None
                self._discard_pending_cds()
                raise self._failure(f"Kafka exited with code {code} while starting")
            if self.is_ready():
                break
            if time.monotonic() >= deadline:
                failure = self._failure(
                    f"Kafka did not answer on {self.bootstrap_servers} within {timeout:.0f}s"
                )
                self.kill()
                raise failure
            time.sleep(0.2)
        self.last_start_seconds = time.monotonic() - started
        if self.owner_pid is not None:
            spawn_watchdog(self.owner_pid, proc.pid, "TERM", self.cleanup_on_owner_exit)
        log.info("Kafka ready on %s in %.1fs", self.bootstrap_servers, self.last_start_seconds)

    def _wait_ready(self, deadline: float) -> bool:
        while True:
            if self.is_ready():
                return True
            if not self.is_running() or time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def _pending_cds(self) -> Path | None:
        pending = read_json(self.state_file).get("pending_cds_archive")
        return Path(pending) if isinstance(pending, str) and pending else None

    def _promote_pending_cds(self) -> None:
        pending = self._pending_cds()
        if pending is None:
            return
        if pending.is_file() and pending.stat().st_size > 0:
            final = pending.with_name(pending.name.split(".jsa.", 1)[0] + ".jsa")
            os.replace(pending, final)
        else:
            pending.unlink(missing_ok=True)
        self._forget_pending_cds()

    def _discard_pending_cds(self) -> None:
        pending = self._pending_cds()
        if pending is not None:
            pending.unlink(missing_ok=True)
            self._forget_pending_cds()

    def _forget_pending_cds(self) -> None:
        state = read_json(self.state_file)
        if state:
            state["pending_cds_archive"] = None
            write_json(self.state_file, state)

    def stop(self, timeout: float = 45.0) -> None:
        """Graceful stop: SIGTERM, wait up to *timeout* s (controlled shutdown), then SIGKILL."""
        pid = self.pid()
        if pid is not None:
            popen = self._proc if self._proc is not None and self._proc.pid == pid else None
            clean = terminate_and_wait(pid, group=True, timeout=timeout, popen=popen)
            if clean:
                self._promote_pending_cds()
            else:
                log.warning("Kafka (pid %s) ignored SIGTERM for %.0fs; killed it", pid, timeout)
                self._discard_pending_cds()
        self._proc = None
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL the broker (fault injection). Storage is left as it is, so a later
        ``start()`` recovers and resumes with every acknowledged record."""
        pid = self.pid()
        if pid is not None:
            kill_and_wait(pid, group=True)
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=5)
        self._proc = None
        self._discard_pending_cds()
        self.pid_file.unlink(missing_ok=True)

    def restart(self, timeout: float = 90.0) -> None:
        """Stop (gracefully) and start again."""
        self.stop()
        self.start(timeout=timeout)

    # Async variants for async tests: the blocking work runs in a worker thread, so
    # the event loop (e.g. a relay or consumer under test) keeps running meanwhile.

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def akill(self) -> None:
        await asyncio.to_thread(self.kill)

    async def arestart(self) -> None:
        await asyncio.to_thread(self.restart)

    def status(self) -> dict[str, Any]:
        return {
            "kind": "kafka",
            "version": KAFKA_VERSION,
            "running": self.is_running(),
            "ready": self.is_ready(),
            "pid": self.pid(),
            "bootstrap_servers": self.bootstrap_servers,
            "controller_port": self.controller_port,
            "data_dir": str(self.data_dir),
            "server_log": str(self.server_log),
            "installed": self.is_installed(),
            "sasl": self.sasl,
        }
