"""A throwaway PostgreSQL cluster run as a local process (Debian's server binaries).

The cluster lives in ``<repo>/.run/postgres`` unless another ``data_dir`` is given,
listens on 127.0.0.1 only, trusts every local connection (user ``postgres``, no
password) and keeps ``fsync`` on, so crash tests (``kill()`` + ``start()``) are real.
When run as root the server runs as the ``postgres`` OS user (it refuses root).

Typical use::

    pg = LocalPostgres(repo_root)            # port: the last one used, else a free one
    pg.start()
    url = pg.create_database("registry")     # postgresql+asyncpg://postgres@127.0.0.1:PORT/registry
    pg.kill()                                # SIGKILL postmaster + backends
    pg.start()                               # crash recovery from WAL
    pg.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import os
import pwd
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from meshkit_testing.devinfra import (
    InfraError,
    apt_install,
    free_port,
    is_root,
    kill_and_wait,
    log_tail,
    parse_host_port,
    pid_alive,
    pid_cmdline,
    port_open,
    read_json,
    run_coroutine_blocking,
    spawn_watchdog,
    wait_until,
    write_json,
)

__all__ = [
    "LocalPostgres",
    "asyncpg_dsn",
    "create_database_at",
    "database_url",
    "drop_database_at",
    "find_pg_bindir",
    "wait_for_postgres",
]

log = logging.getLogger(__name__)

PG_USER = "postgres"
BINDIR_ENV = "MESH_PG_BINDIR"
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


# --------------------------------------------------------------------------- URLs and SQL


def database_url(server_url: str, dbname: str) -> str:
    """*server_url* with its database replaced by *dbname* (SQLAlchemy asyncpg form)."""
    parts = urlsplit(server_url)
    scheme = parts.scheme
    if scheme in ("postgres", "postgresql"):
        scheme = "postgresql+asyncpg"
    return urlunsplit((scheme, parts.netloc, "/" + quote(dbname), parts.query, ""))


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+asyncpg://...``) as a plain libpq/asyncpg DSN."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


def _check_name(name: str) -> None:
    if not _DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r} (use letters, digits and _)")


def create_database_at(server_url: str, name: str, timeout: float = 60.0) -> str:
    """``CREATE DATABASE name`` unless it exists; returns the database's URL."""
    _check_name(name)

    async def create() -> None:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(database_url(server_url, "postgres")))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # concurrent create
                    await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_coroutine_blocking(create, timeout=timeout)
    return database_url(server_url, name)


def drop_database_at(server_url: str, name: str, timeout: float = 60.0) -> None:
    """``DROP DATABASE IF EXISTS name WITH (FORCE)`` (PostgreSQL 13+)."""
    _check_name(name)

    async def drop() -> None:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(database_url(server_url, "postgres")))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_coroutine_blocking(drop, timeout=timeout)


def _can_connect(server_url: str, timeout: float) -> bool:
    async def probe() -> None:
        import asyncpg

        conn = await asyncpg.connect(
            asyncpg_dsn(database_url(server_url, "postgres")), timeout=timeout
        )
        try:
            await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    try:
        run_coroutine_blocking(probe, timeout=timeout + 5)
    except Exception:
        return False
    return True


def wait_for_postgres(server_url: str, timeout: float = 60.0) -> None:
    """Block until a ``SELECT 1`` succeeds on *server_url*, else raise :class:`InfraError`."""
    parts = urlsplit(server_url)
    host, port = parse_host_port(parts.netloc.rpartition("@")[2] or "127.0.0.1", 5432)
    deadline = time.monotonic() + timeout
    delay = 0.1
    last_reason = "no answer"
    while True:
        if port_open(host or "127.0.0.1", port, timeout=1.0):
            if _can_connect(server_url, timeout=5.0):
                return
            last_reason = "port open but login/SELECT 1 failed"
        if time.monotonic() >= deadline:
            raise InfraError(
                f"PostgreSQL at {host}:{port} not usable within {timeout:.0f}s ({last_reason})"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


# --------------------------------------------------------------------------- binaries


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit()) or (0,)


def find_pg_bindir() -> Path | None:
    """Directory with initdb/pg_ctl/postgres: ``$MESH_PG_BINDIR``, the newest
    ``/usr/lib/postgresql/*/bin`` (Debian), else wherever ``initdb`` is on PATH."""
    override = os.environ.get(BINDIR_ENV, "").strip()
    if override:
        return Path(override) if (Path(override) / "initdb").is_file() else None
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


# --------------------------------------------------------------------------- LocalPostgres


class LocalPostgres:
    """One throwaway PostgreSQL cluster on 127.0.0.1.

    Layout: ``<data_dir>/pgdata`` (the cluster), ``<data_dir>/postgres.log``,
    ``<data_dir>/state.json`` (the port), ``<data_dir>/sock`` (the unix socket).
    """

    #: kill()/restart() really kill/restart a process (fault-injection tests can run).
    supports_fault_injection = True

    def __init__(
        self,
        repo_root: Path,
        port: int | None = None,
        data_dir: Path | None = None,
        *,
        settings: dict[str, str] | None = None,
        owner_pid: int | None = None,
        cleanup_on_owner_exit: Path | None = None,
    ) -> None:
        self.repo_root = Path(repo_root).resolve()
        self.data_dir = (
            Path(data_dir) if data_dir is not None else self.repo_root / ".run" / "postgres"
        ).resolve()
        if port is None:
            recorded = read_json(self.state_file).get("port")
            port = int(recorded) if isinstance(recorded, int) else free_port()
        self.port: int = port
        self.settings = dict(settings or {})
        #: When set, a watchdog stops the server if that process (e.g. pytest) dies.
        self.owner_pid = owner_pid
        self.cleanup_on_owner_exit = cleanup_on_owner_exit
        self._bindir: Path | None = None
        self.last_start_seconds: float | None = None

    # ------------------------------------------------------------------ paths

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    @property
    def socket_dir(self) -> Path:
        sock = self.data_dir / "sock"
        # Unix socket paths are limited to 107 bytes (".s.PGSQL.NNNNN" included).
        return sock if len(str(sock)) <= 90 else Path("/tmp")

    @property
    def server_url(self) -> str:
        return self.url("postgres")

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy async URL of database *dbname* on this server."""
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def __repr__(self) -> str:
        return f"LocalPostgres(127.0.0.1:{self.port}, data_dir={self.data_dir})"

    # ------------------------------------------------------------------ install

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self.ensure_installed()
        assert self._bindir is not None
        return self._bindir

    def ensure_installed(self) -> None:
        """Find the server binaries; ``apt-get install -y postgresql`` when there are none.

        (Debian's package may create and start its own cluster on 5432; we ignore it.)
        """
        bindir = find_pg_bindir()
        if bindir is None:
            log.info("PostgreSQL server binaries not found; installing Debian's postgresql")
            apt_install(["postgresql"])
            bindir = find_pg_bindir()
            if bindir is None:
                raise InfraError("initdb not found even after `apt-get install postgresql`")
        self._bindir = bindir

    # ------------------------------------------------------------------ helpers

    def _major(self) -> int:
        """The server's major version (Debian: /usr/lib/postgresql/<major>/bin); 0 if unknown."""
        try:
            return int(self.bindir.parent.name)
        except ValueError:
            version = self.pgdata / "PG_VERSION"
            return int(version.read_text().strip()) if version.is_file() else 0

    def _as_server_user(self, cmd: list[str]) -> list[str]:
        if not is_root():
            return cmd
        if shutil.which("runuser"):
            return ["runuser", "-u", PG_USER, "--", *cmd]
        user = pwd.getpwnam(PG_USER)
        return [
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--init-groups",
            *cmd,
        ]

    def _run(self, cmd: list[str], timeout: float, new_session: bool = False) -> str:
        full = self._as_server_user(cmd)
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        env.pop("PGDATA", None)
        try:
            proc = subprocess.run(
                full,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,  # readable by the server user (not e.g. /root)
                env=env,
                timeout=timeout,
                start_new_session=new_session,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise self._failure(f"`{' '.join(cmd)}` timed out after {timeout:.0f}s") from exc
        if proc.returncode != 0:
            raise self._failure(
                f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n"
                f"{(proc.stdout + proc.stderr).strip()}"
            )
        return proc.stdout

    def _failure(self, what: str) -> InfraError:
        return InfraError(f"{what}\n--- {self.log_file} (tail) ---\n{log_tail(self.log_file, 60)}")

    def _prepare_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        sock = self.socket_dir
        if sock != Path("/tmp"):
            sock.mkdir(exist_ok=True)
        if not is_root():
            return
        user = pwd.getpwnam(PG_USER)
        for path in (self.data_dir, sock):
            if path != Path("/tmp"):
                os.chown(path, user.pw_uid, user.pw_gid)
        for path in (self.log_file, self.pgdata):
            if path.exists():
                os.chown(path, user.pw_uid, user.pw_gid)
        # The server user must be able to reach the data dir through its parents.
        for parent in self.data_dir.parents:
            mode = parent.stat()
            if mode.st_uid != user.pw_uid and not mode.st_mode & stat.S_IXOTH:
                raise InfraError(
                    f"{parent} is not searchable by the {PG_USER!r} user "
                    f"(mode {stat.filemode(mode.st_mode)}); pick a data dir elsewhere or "
                    f"`chmod o+x {parent}`"
                )

    def _write_settings(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "300",
            "shared_buffers": "64MB",
            "work_mem": "4MB",
            "maintenance_work_mem": "32MB",
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            "max_wal_size": "512MB",
            "logging_collector": "off",
            "log_min_messages": "warning",
            "log_line_prefix": "'%m [%p] %q%u@%d '",
            "timezone": "'UTC'",
            "max_prepared_transactions": "0",
        }
        if self._major() >= 14:
            # crash recovery (after kill()) first fsyncs every file of the data directory, one
            # by one: with the hundreds of databases a test session creates that passed 60 s;
            # syncfs() flushes the file system once, as durable
            settings["recovery_init_sync_method"] = "syncfs"
        settings.update(self.settings)
        text = "# Generated by meshkit_testing.devinfra.postgres on every start.\n" + "".join(
            f"{key} = {value}\n" for key, value in settings.items()
        )
        target = self.pgdata / "meshkit.conf"
        target.write_text(text)
        if is_root():
            user = pwd.getpwnam(PG_USER)
            os.chown(target, user.pw_uid, user.pw_gid)
        main_conf = self.pgdata / "postgresql.conf"
        if "include_if_exists = 'meshkit.conf'" not in main_conf.read_text():
            with main_conf.open("a") as fh:
                fh.write("\ninclude_if_exists = 'meshkit.conf'\n")

    def _initdb(self) -> None:
        log.info("initdb %s", self.pgdata)
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.pgdata),
                "-U", PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",  # only initdb's own files; the server keeps fsync on
            ],
            timeout=120,
        )  # fmt: skip

    # ------------------------------------------------------------------ lifecycle

    def postmaster_pid(self) -> int | None:
        """The postmaster's pid (from ``postmaster.pid``) when it is alive."""
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first.strip())
        except (OSError, ValueError, IndexError):
            return None
        if not pid_alive(pid):
            return None
        cmdline = pid_cmdline(pid)
        if cmdline and not any("postgres" in part for part in cmdline[:1]):
            return None  # the pid was reused by another program
        return pid

    def _remove_stale_pid_file(self) -> None:
        # PostgreSQL removes a stale postmaster.pid itself, unless its pid still exists
        # as a zombie that nobody has reaped yet (we SIGKILLed a process that is not
        # our child): then it refuses to start. We know better: it is dead.
        lock = self.pgdata / "postmaster.pid"
        if lock.exists() and self.postmaster_pid() is None:
            lock.unlink(missing_ok=True)

    def is_running(self) -> bool:
        return self.postmaster_pid() is not None

    def start(self, timeout: float = 180.0) -> None:
        """initdb (first time), then ``pg_ctl start -w``. Idempotent."""
        self.ensure_installed()
        if self.is_running():
            return
        if port_open("127.0.0.1", self.port, timeout=0.3):
            raise InfraError(
                f"port {self.port} is already in use by another process; choose another "
                f"port or point MESH_TEST_POSTGRES_URL at an existing server"
            )
        self._prepare_dirs()
        self._remove_stale_pid_file()
        if not (self.pgdata / "PG_VERSION").is_file():
            shutil.rmtree(self.pgdata, ignore_errors=True)
            self._initdb()
        self._write_settings()
        started = time.monotonic()
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D", str(self.pgdata),
                "-l", str(self.log_file),
                "-w", "-t", str(int(timeout)),
                "start",
            ],
            timeout=timeout + 15,
            new_session=True,  # keep the server out of our terminal's signals
        )  # fmt: skip
        write_json(self.state_file, {"port": self.port, "url": self.server_url})
        self.last_start_seconds = time.monotonic() - started
        postmaster = self.postmaster_pid()
        if self.owner_pid is not None and postmaster is not None:
            # SIGINT = fast shutdown.
            spawn_watchdog(self.owner_pid, postmaster, "INT", self.cleanup_on_owner_exit)
        log.info("PostgreSQL ready on 127.0.0.1:%s in %.1fs", self.port, self.last_start_seconds)

    def stop(self, timeout: float = 60.0) -> None:
        """``pg_ctl stop -m fast``; SIGKILL if that does not work."""
        if not self.is_running():
            return
        try:
            self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w",
                 "-t", str(int(timeout)), "stop"],
                timeout=timeout + 15,
            )  # fmt: skip
        except InfraError:
            log.warning("pg_ctl stop failed; killing the server", exc_info=True)
            self.kill()

    def kill(self) -> None:
        """SIGKILL the postmaster and all its backends (a crash, for fault tests).

        The data directory is kept, so ``start()`` runs crash recovery from the WAL.
        """
        pid = self.postmaster_pid()
        if pid is None:
            return
        kill_and_wait(pid, group=True)
        # Give init a moment to reap the (non-child) zombie; start() copes if it doesn't.
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), 5.0)

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start(timeout=timeout)

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def akill(self) -> None:
        await asyncio.to_thread(self.kill)

    async def arestart(self) -> None:
        await asyncio.to_thread(self.restart)

    def create_database(self, name: str) -> str:
        """Create database *name* unless it exists; returns its SQLAlchemy async URL."""
        return create_database_at(self.server_url, name)

    def drop_database(self, name: str) -> None:
        drop_database_at(self.server_url, name)

    def status(self) -> dict[str, Any]:
        return {
            "kind": "postgres",
            "running": self.is_running(),
            "pid": self.postmaster_pid(),
            "port": self.port,
            "url": self.server_url,
            "data_dir": str(self.data_dir),
            "log": str(self.log_file),
        }
