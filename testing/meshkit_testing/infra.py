"""Which Kafka / PostgreSQL the tests use, and starting/stopping them.

Selection, per kind (see :func:`select_infrastructure`):

1. ``env``            the environment names one (``KAFKA_BOOTSTRAP_SERVERS`` /
                      ``MESH_TEST_POSTGRES_URL``): use it, never start or stop it;
2. ``testcontainers`` a Docker engine answers (and the ``testcontainers`` package is
                      installed, else a warning and 3.);
3. ``local``          local processes from :mod:`meshkit_testing.devinfra` (no Docker needed).

``MESH_TEST_INFRA=local`` (or ``testcontainers``) forces step 2's choice; ``auto`` is
the default. URLs from the environment always win.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import logging
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from meshkit_testing.devinfra import InfraError, NotSupported, free_port

__all__ = [
    "ENV_URL_VARS",
    "FORCE_ENV",
    "ContainerKafka",
    "ContainerPostgres",
    "ExternalKafka",
    "ExternalPostgres",
    "InfraKind",
    "InfraSource",
    "KafkaService",
    "PostgresService",
    "docker_engine_available",
    "provide_kafka",
    "provide_postgres",
    "resolve_infrastructure",
    "select_infrastructure",
    "testcontainers_installed",
]

log = logging.getLogger(__name__)

InfraKind = Literal["kafka", "postgres"]
InfraSource = Literal["env", "testcontainers", "local"]

#: The environment variable that points a kind at existing infrastructure.
ENV_URL_VARS: Mapping[InfraKind, str] = {
    "kafka": "KAFKA_BOOTSTRAP_SERVERS",
    "postgres": "MESH_TEST_POSTGRES_URL",
}
#: ``auto`` (default), ``local`` or ``testcontainers``.
FORCE_ENV = "MESH_TEST_INFRA"
#: Keep the temporary data dirs of locally started servers after the session.
KEEP_ENV = "MESH_TEST_KEEP_INFRA"

KAFKA_IMAGE_ENV = "MESH_TEST_KAFKA_IMAGE"
POSTGRES_IMAGE_ENV = "MESH_TEST_POSTGRES_IMAGE"
DEFAULT_KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.1"
DEFAULT_POSTGRES_IMAGE = "postgres:16-alpine"


# --------------------------------------------------------------------------- selection


def select_infrastructure(
    kind: InfraKind, env: Mapping[str, str], docker_available: bool
) -> InfraSource:
    """Pure: where the tests get a *kind* (``"kafka"``/``"postgres"``) from.

    Environment URL -> ``"env"``; else ``MESH_TEST_INFRA`` when it forces a choice;
    else ``"testcontainers"`` when a Docker engine answers; else ``"local"``.
    """
    if kind not in ENV_URL_VARS:
        raise ValueError(f"unknown infrastructure kind {kind!r}")
    if env.get(ENV_URL_VARS[kind], "").strip():
        return "env"
    forced = env.get(FORCE_ENV, "").strip().lower() or "auto"
    if forced == "local":
        return "local"
    if forced == "testcontainers":
        return "testcontainers"
    if forced != "auto":
        raise ValueError(f"{FORCE_ENV}={forced!r}: expected auto, local or testcontainers")
    return "testcontainers" if docker_available else "local"


def docker_engine_available(timeout: float = 5.0) -> bool:
    """True when ``docker info`` reaches a Docker engine within *timeout* seconds."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        proc = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


@functools.cache
def _docker_engine_available_cached() -> bool:
    return docker_engine_available()


def testcontainers_installed() -> bool:
    return importlib.util.find_spec("testcontainers") is not None


def resolve_infrastructure(kind: InfraKind, env: Mapping[str, str] | None = None) -> InfraSource:
    """:func:`select_infrastructure` with the real environment; asks Docker only when
    it matters, and falls back to ``local`` (with a warning) when the
    ``testcontainers`` package is missing."""
    environ = os.environ if env is None else env
    docker = False
    if select_infrastructure(kind, environ, docker_available=True) == "testcontainers":
        docker = _docker_engine_available_cached()
    source = select_infrastructure(kind, environ, docker_available=docker)
    if source == "testcontainers" and not testcontainers_installed():
        warnings.warn(
            f"{kind}: a Docker engine answers but the 'testcontainers' package is not "
            f"installed; using local processes instead",
            RuntimeWarning,
            stacklevel=2,
        )
        return "local"
    return source


# --------------------------------------------------------------------------- services


@runtime_checkable
class KafkaService(Protocol):
    """What the ``kafka`` fixture gives: a broker address, and fault injection."""

    supports_fault_injection: bool

    @property
    def bootstrap_servers(self) -> str: ...

    def start(self, timeout: float = ...) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...

    def kill(self) -> None: ...

    def restart(self, timeout: float = ...) -> None: ...

    def is_running(self) -> bool: ...


@runtime_checkable
class PostgresService(Protocol):
    """What the ``postgres`` fixture gives: databases on demand, and fault injection."""

    supports_fault_injection: bool

    def url(self, dbname: str = ...) -> str: ...

    def create_database(self, name: str) -> str: ...

    def drop_database(self, name: str) -> None: ...

    def start(self, timeout: float = ...) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...

    def kill(self) -> None: ...

    def restart(self, timeout: float = ...) -> None: ...

    def is_running(self) -> bool: ...


class _NoFaults:
    """Fault injection for infrastructure whose process we do not own."""

    supports_fault_injection = False
    description = "external infrastructure"

    def kill(self) -> None:
        raise NotSupported(f"cannot kill {self.description}: fault injection needs local processes")

    def restart(self, timeout: float = 90.0) -> None:
        raise NotSupported(
            f"cannot restart {self.description}: fault injection needs local processes"
        )

    async def akill(self) -> None:
        self.kill()

    async def arestart(self) -> None:
        self.restart()


class ExternalKafka(_NoFaults):
    """A broker named by ``KAFKA_BOOTSTRAP_SERVERS``: waited for, never started/stopped."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self.description = f"the external Kafka at {bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS)"

    @property
    def bootstrap_servers(self) -> str:
        return self._bootstrap_servers

    def start(self, timeout: float = 90.0) -> None:
        from meshkit_testing.devinfra.kafka import wait_for_kafka

        wait_for_kafka(self._bootstrap_servers, timeout=timeout)

    def stop(self, timeout: float = 0.0) -> None:
        pass

    def is_running(self) -> bool:
        from meshkit_testing.devinfra.kafka import kafka_ready

        return kafka_ready(self._bootstrap_servers)

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    def __repr__(self) -> str:
        return f"ExternalKafka({self._bootstrap_servers})"


class ExternalPostgres(_NoFaults):
    """A server named by ``MESH_TEST_POSTGRES_URL``: waited for, never started/stopped."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        host = server_url.rpartition("@")[2].split("/", 1)[0]
        self.description = f"the external PostgreSQL at {host} (MESH_TEST_POSTGRES_URL)"

    def url(self, dbname: str = "postgres") -> str:
        from meshkit_testing.devinfra.postgres import database_url

        return database_url(self.server_url, dbname)

    def create_database(self, name: str) -> str:
        from meshkit_testing.devinfra.postgres import create_database_at

        return create_database_at(self.server_url, name)

    def drop_database(self, name: str) -> None:
        from meshkit_testing.devinfra.postgres import drop_database_at

        drop_database_at(self.server_url, name)

    def start(self, timeout: float = 60.0) -> None:
        from meshkit_testing.devinfra.postgres import wait_for_postgres

        wait_for_postgres(self.server_url, timeout=timeout)

    def stop(self, timeout: float = 0.0) -> None:
        pass

    def is_running(self) -> bool:
        try:
            self.start(timeout=2.0)
        except InfraError:
            return False
        return True

    def __repr__(self) -> str:
        return f"ExternalPostgres({self.description})"


class ContainerKafka(ExternalKafka):
    """Kafka in a Docker container (testcontainers), stopped at the end of the session."""

    def __init__(self, image: str) -> None:
        from testcontainers.kafka import KafkaContainer

        container: Any = KafkaContainer(image)
        with_kraft = getattr(container, "with_kraft", None)
        if callable(with_kraft):
            container = with_kraft()
        container.start()
        self._container = container
        super().__init__(str(container.get_bootstrap_server()))
        self.description = f"Kafka in a testcontainers container ({image})"

    def stop(self, timeout: float = 30.0) -> None:
        self._container.stop()


class ContainerPostgres(ExternalPostgres):
    """PostgreSQL in a Docker container (testcontainers), stopped at the end of the session."""

    def __init__(self, image: str) -> None:
        from testcontainers.postgres import PostgresContainer

        from meshkit_testing.devinfra.postgres import database_url

        container: Any = PostgresContainer(image)
        container.start()
        self._container = container
        super().__init__(database_url(str(container.get_connection_url()), "postgres"))
        self.description = f"PostgreSQL in a testcontainers container ({image})"

    def stop(self, timeout: float = 30.0) -> None:
        self._container.stop()


# --------------------------------------------------------------------------- providers


def _workdir(kind: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"meshkit-{kind}-"))
    path.chmod(0o755)  # the postgres OS user must reach the data dir inside
    return path


def _keep() -> bool:
    return os.environ.get(KEEP_ENV, "").strip() in ("1", "true", "yes")


def _cleanup(path: Path) -> None:
    if _keep():
        log.warning("keeping %s (%s is set)", path, KEEP_ENV)
        return
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def provide_kafka(repo_root: Path, env: Mapping[str, str] | None = None) -> Iterator[KafkaService]:
    """A running Kafka for a test session; stops what it started on exit.

    Raises :class:`InfraError` (with the broker's log tail) when it cannot start.
    """
    environ = os.environ if env is None else env
    source = resolve_infrastructure("kafka", environ)
    if source == "env":
        external = ExternalKafka(environ[ENV_URL_VARS["kafka"]].strip())
        external.start()
        yield external
        return
    if source == "testcontainers":
        container = ContainerKafka(environ.get(KAFKA_IMAGE_ENV, "") or DEFAULT_KAFKA_IMAGE)
        try:
            yield container
        finally:
            container.stop()
        return

    from meshkit_testing.devinfra.kafka import LocalKafka

    workdir = _workdir("kafka")
    kafka = LocalKafka(
        repo_root,
        port=free_port(),
        controller_port=free_port(),
        data_dir=workdir,
        owner_pid=os.getpid(),  # a watchdog stops it if this test process dies
        cleanup_on_owner_exit=None if _keep() else workdir,
    )
    try:
        kafka.start()
    except BaseException as exc:
        kafka.kill()
        if isinstance(exc, InfraError):
            raise InfraError(f"{exc}\n(data dir kept: {workdir})") from exc
        raise
    try:
        yield kafka
    finally:
        try:
            kafka.stop()
        finally:
            _cleanup(workdir)


@contextlib.contextmanager
def provide_postgres(
    repo_root: Path, env: Mapping[str, str] | None = None
) -> Iterator[PostgresService]:
    """A running PostgreSQL server for a test session; stops what it started on exit.

    Raises :class:`InfraError` (with the server's log tail) when it cannot start.
    """
    environ = os.environ if env is None else env
    source = resolve_infrastructure("postgres", environ)
    if source == "env":
        external = ExternalPostgres(environ[ENV_URL_VARS["postgres"]].strip())
        external.start()
        yield external
        return
    if source == "testcontainers":
        container = ContainerPostgres(environ.get(POSTGRES_IMAGE_ENV, "") or DEFAULT_POSTGRES_IMAGE)
        try:
            yield container
        finally:
            container.stop()
        return

    from meshkit_testing.devinfra.postgres import LocalPostgres

    workdir = _workdir("postgres")
    pg = LocalPostgres(
        repo_root,
        port=free_port(),
        data_dir=workdir,
        owner_pid=os.getpid(),
        cleanup_on_owner_exit=None if _keep() else workdir,
    )
    try:
        pg.start()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            pg.kill()
        if isinstance(exc, InfraError):
            raise InfraError(f"{exc}\n(data dir kept: {workdir})") from exc
        raise
    try:
        yield pg
    finally:
        try:
            pg.stop()
        finally:
            _cleanup(workdir)
