"""pytest plugin of the egov-mesh workspace (loaded everywhere with ``-p meshkit_testing.plugin``).

Fixtures (nothing starts unless a test asks for it):

``kafka`` (session)
    A running broker: ``.bootstrap_servers``; fault injection with ``.kill()``
    (SIGKILL), ``.start()``, ``.restart()`` (and ``await .akill()/.astart()/.arestart()``
    which keep the event loop running). With ``KAFKA_BOOTSTRAP_SERVERS`` set, the broker
    is external: ``kill``/``restart`` raise ``NotSupported`` and the test is *skipped*.
``postgres`` (session)
    A running PostgreSQL server: ``.create_database(name) -> url``, ``.url(name)``,
    ``.kill()``, ``.start()``, ``.restart()``. External with ``MESH_TEST_POSTGRES_URL``.
``pg_url`` (function)
    A fresh, uniquely named database on the session server: its SQLAlchemy async URL
    (``postgresql+asyncpg://...``).
``database_url`` (function, parametrised)
    Runs the test twice: ``None`` (the service's embedded default, a SQLite file in its data
    dir) and a fresh PostgreSQL database (``pg_url``; marked ``integration``/``postgres``).
``kafka_topic`` (function)
    A unique topic name (``test.<8 hex>``); topics are auto-created by the broker.

Where Kafka/PostgreSQL come from is decided by :mod:`meshkit_testing.infra`
(environment URL -> testcontainers when Docker answers -> local processes).
If starting them fails, the fixture errors with the server's log tail (never a skip).
A session server that a test left killed is started again before the next test that
uses it. Servers this plugin started are stopped, and their temp dirs removed, at the
end of the session.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from meshkit_testing.infra import KafkaService, PostgresService

# Session services this plugin has handed out, by fixture name.
_ACTIVE: dict[str, Any] = {}


def _repo_root(config: pytest.Config) -> Path:
    from meshkit_testing.devinfra import InfraError, find_repo_root

    try:
        return find_repo_root(Path(config.rootpath))
    except InfraError:
        return Path(config.rootpath)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Turn ``NotSupported`` (fault injection on external infrastructure) into a skip."""
    try:
        return (yield)
    except Exception as exc:
        from meshkit_testing.devinfra import NotSupported

        if isinstance(exc, NotSupported):
            pytest.skip(f"needs locally run infrastructure: {exc}")
        raise


@pytest.fixture(scope="session")
def kafka(request: pytest.FixtureRequest) -> Iterator[KafkaService]:
    """A running Kafka broker for the whole session (see the module docs)."""
    from meshkit_testing.infra import provide_kafka

    with provide_kafka(_repo_root(request.config)) as service:
        _ACTIVE["kafka"] = service
        try:
            yield service
        finally:
            _ACTIVE.pop("kafka", None)


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> Iterator[PostgresService]:
    """A running PostgreSQL server for the whole session (see the module docs)."""
    from meshkit_testing.infra import provide_postgres

    with provide_postgres(_repo_root(request.config)) as service:
        _ACTIVE["postgres"] = service
        try:
            yield service
        finally:
            _ACTIVE.pop("postgres", None)


@pytest.fixture(autouse=True)
def _meshkit_revive_infra(request: pytest.FixtureRequest) -> None:
    """Start again a session server that an earlier (fault-injection) test left down."""
    for name, service in list(_ACTIVE.items()):
        wanted = name in request.fixturenames and service.supports_fault_injection
        if wanted and not service.is_running():
            service.start()


@pytest.fixture
def pg_url(postgres: PostgresService) -> Iterator[str]:
    """A fresh database on the session PostgreSQL; its SQLAlchemy async URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    yield url
    if not postgres.supports_fault_injection:
        # A shared external server: don't leave one database per test behind.
        try:
            postgres.drop_database(name)
        except Exception as exc:
            import warnings

            warnings.warn(f"could not drop test database {name}: {exc}", stacklevel=1)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=[pytest.mark.integration, pytest.mark.postgres]),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """The embedded default (None: SQLite in the data dir) and PostgreSQL, one run each."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return None


@pytest.fixture
def kafka_topic() -> str:
    """A unique topic name, ``test.<8 hex>``."""
    return f"test.{uuid.uuid4().hex[:8]}"
