"""Local development infrastructure: a pinned Apache Kafka (KRaft) and a throwaway PostgreSQL.

Both run as plain local processes (no Docker): Kafka from jars fetched with Maven
(``deploy/local/pom.xml``), PostgreSQL from Debian's server binaries. The CLI is
``python -m meshkit_testing.devinfra kafka|postgres start|stop|status|kill|restart`` and the
pytest fixtures in :mod:`meshkit_testing.plugin` build on the same classes.

This module holds the small process/port helpers shared by :mod:`.kafka` and
:mod:`.postgres`. It imports only the standard library, so importing it is cheap;
``LocalKafka`` and ``LocalPostgres`` are loaded on first access.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from meshkit_testing.devinfra.kafka import LocalKafka
    from meshkit_testing.devinfra.postgres import LocalPostgres

__all__ = [
    "InfraError",
    "LocalKafka",
    "LocalPostgres",
    "NotSupported",
    "find_repo_root",
    "free_port",
    "port_open",
]

T = TypeVar("T")

REPO_ROOT_ENV = "MESH_REPO_ROOT"


class InfraError(RuntimeError):
    """Local infrastructure could not be installed, started or stopped."""


class NotSupported(InfraError):
    """The operation is not possible for this kind of infrastructure.

    Raised e.g. by ``kill()``/``restart()`` on a broker or server that was provided
    through the environment (we do not own its process). Fault-injection tests are
    skipped, with this message as the reason, when it escapes them.
    """


def __getattr__(name: str) -> Any:
    # Lazy re-exports, so that `import meshkit_testing.devinfra` stays cheap.
    if name == "LocalKafka":
        from meshkit_testing.devinfra.kafka import LocalKafka

        return LocalKafka
    if name == "LocalPostgres":
        from meshkit_testing.devinfra.postgres import LocalPostgres

        return LocalPostgres
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- paths


def find_repo_root(start: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The workspace root: ``$MESH_REPO_ROOT``, else the nearest parent of *start*
    (default: the current directory) that contains ``uv.lock``."""
    environ = os.environ if env is None else env
    override = environ.get(REPO_ROOT_ENV, "").strip()
    if override:
        root = Path(override).expanduser().resolve()
        if not root.is_dir():
            raise InfraError(f"{REPO_ROOT_ENV}={override!r} is not a directory")
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "uv.lock").is_file():
            return candidate
    raise InfraError(
        f"cannot find the repository root: no uv.lock in {here} or its parents "
        f"(run from inside the repository or set {REPO_ROOT_ENV})"
    )


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(dict(data), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) held for the ``with`` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def log_tail(path: Path, lines: int = 60) -> str:
    """The last *lines* lines of a log file (or a note that it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 256 * 1024))
            data = fh.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"<no log at {path}: {exc.strerror}>"
    tail = data.splitlines()[-lines:]
    return "\n".join(tail) if tail else f"<{path} is empty>"


# --------------------------------------------------------------------------- ports


def free_port(host: str = "127.0.0.1", avoid: frozenset[int] = frozenset()) -> int:
    """A TCP port that is free right now, below Linux's ephemeral range (32768+): a port the OS
    hands out would be as likely taken by some client's outgoing connection before the
    service that was promised it binds it."""
    import random

    for _ in range(200):
        port = random.randint(20000, 32000)
        if port in avoid:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def parse_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``"host:port"`` / ``"[v6]:port"`` / ``"host"`` -> (host, port)."""
    address = address.strip()
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if address.count(":") == 1:
        host, _, port = address.partition(":")
        return host, int(port)
    return address, default_port


# --------------------------------------------------------------------------- processes


def pid_alive(pid: int) -> bool:
    """True when *pid* exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    # The state follows the parenthesised command name, which may contain spaces.
    state = stat.rpartition(")")[2].split()[:1]
    return state != ["Z"] and state != ["X"]


def pid_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def process_group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is *pgid* (Linux /proc)."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # fields: state ppid pgrp ...
        if len(fields) >= 3 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    *,
    interval: float = 0.1,
    max_interval: float = 0.5,
) -> bool:
    """Poll *predicate* until it is true or *timeout* seconds pass; return the last result."""
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        if predicate():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 1.5, max_interval)


def signal_process(pid: int, sig: int, *, group: bool) -> None:
    """Send *sig* to *pid* (or to its whole process group); a vanished process is fine."""
    with contextlib.suppress(ProcessLookupError):
        if group and os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def kill_and_wait(pid: int, *, group: bool, timeout: float = 15.0) -> None:
    """SIGKILL *pid* (and its process group) and wait until every member is gone."""
    pgid = pid
    try:
        is_leader = os.getpgid(pid) == pid
    except ProcessLookupError:
        is_leader = False
    signal_process(pid, signal.SIGKILL, group=group)

    def gone() -> bool:
        if pid_alive(pid):
            return False
        return not (group and is_leader and process_group_members(pgid))

    if not wait_until(gone, timeout):
        raise InfraError(f"process {pid} did not die within {timeout:.0f}s of SIGKILL")


def terminate_and_wait(
    pid: int,
    *,
    group: bool,
    timeout: float,
    popen: subprocess.Popen[bytes] | None = None,
) -> bool:
    """SIGTERM, wait up to *timeout*, then SIGKILL. True when it stopped on SIGTERM."""
    if not pid_alive(pid):
        return True
    signal_process(pid, signal.SIGTERM, group=group)

    def gone() -> bool:
        if popen is not None and popen.pid == pid:
            return popen.poll() is not None
        return not pid_alive(pid)

    if wait_until(gone, timeout, interval=0.1, max_interval=0.25):
        return True
    kill_and_wait(pid, group=group)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=5)
    return False


_WATCHDOG = r"""
owner=$1 target=$2 sig=$3 dir=$4
while kill -0 "$owner" 2>/dev/null; do
    kill -0 "$target" 2>/dev/null || exit 0   # stopped normally: nothing to do
    sleep 1
done
kill -"$sig" "$target" 2>/dev/null
i=0
while kill -0 "$target" 2>/dev/null && [ "$i" -lt 120 ]; do sleep 0.5; i=$((i+1)); done
kill -0 "$target" 2>/dev/null && kill -KILL -- "-$target" 2>/dev/null
[ -n "$dir" ] && rm -rf -- "$dir"
exit 0
"""


def spawn_watchdog(owner_pid: int, target_pid: int, sig: str, cleanup: Path | None = None) -> None:
    """Stop *target_pid* (with signal *sig*, e.g. ``"TERM"``) if *owner_pid* dies first.

    For servers started by a test session: when pytest itself is killed (say by a CI
    time limit) the detached server would otherwise run on forever. The watchdog is a
    detached ``sh`` polling once a second; it exits as soon as the target stops. After
    the target is gone it removes *cleanup* (a temp data dir), if given.
    """
    subprocess.Popen(
        ["sh", "-c", _WATCHDOG, "meshkit-watchdog", str(owner_pid), str(target_pid), sig,
         str(cleanup or "")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )  # fmt: skip


# --------------------------------------------------------------------------- installing


def is_root() -> bool:
    return os.geteuid() == 0


def apt_install(packages: Sequence[str]) -> None:
    """``apt-get update && apt-get install -y PACKAGES`` (root only)."""
    if not is_root():
        raise InfraError(
            f"missing system packages {' '.join(packages)}; install them with "
            f"`sudo apt-get install -y {' '.join(packages)}`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
    ):
        proc = subprocess.run(
            cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip().splitlines()[-30:]
            raise InfraError(f"`{' '.join(cmd)}` failed ({proc.returncode}):\n" + "\n".join(output))


def require_executable(name: str, apt_package: str) -> str:
    """Path of *name*; installs *apt_package* first when it is missing and we are root."""
    found = shutil.which(name)
    if found:
        return found
    apt_install([apt_package])
    found = shutil.which(name)
    if not found:
        raise InfraError(f"`{name}` not found even after installing {apt_package}")
    return found


# --------------------------------------------------------------------------- asyncio


def run_coroutine_blocking(factory: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
    """Run ``factory()`` to completion on a private event loop in a worker thread.

    Works both from plain code and from inside a running event loop (e.g. an async
    test calling a synchronous fixture method), which ``asyncio.run`` does not.
    """
    result: list[T] = []
    error: list[BaseException] = []

    async def main() -> T:
        return await factory()

    def worker() -> None:
        try:
            result.append(asyncio.run(main()))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=worker, name="meshkit-devinfra", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise InfraError(f"operation did not finish within {timeout:.0f}s")
    if error:
        raise error[0]
    return result[0]
