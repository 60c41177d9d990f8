"""docs/integrating-an-agency.md is executable: its ```bash blocks, extracted in order and run in
one bash process against a mesh started the way `make run` starts it (deploy/local/mesh.py),
take a new agency from nothing to routed calls through /x/ and /r1/, a published service
another agency calls, events consumed and published, and its calls found in the audit log.

Each block checks its own results (`jq -e`); this test also reads what the blocks left in the
working directory, so a block that stopped checking would not make the test pass unnoticed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from meshkit_testing.devinfra import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "integrating-an-agency.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARK = "@@tutorial block {} ok@@"
MESH_UP = "egov-mesh is up"


def bash_blocks(text: str) -> list[str]:
    return [m.group(1) for m in BLOCK.finditer(text)]


def test_the_doc_has_the_steps_it_promises() -> None:
    blocks = bash_blocks(DOC.read_text())
    assert len(blocks) >= 10
    script = "\n".join(blocks)
    for step in (
        "/api/v1/admin/members",  # the member
        "/admin/clients/education",  # its client at identity
        "grant_type=client_credentials",  # a token
        "/api/v1/admin/grants",  # a grant
        "/x/identity/persons/",  # routed, /x/
        "/r1/KZ/GOV/",  # routed, X-Road form
        "X-Mesh-Purpose",
        "/api/v1/admin/services/",  # a published service
        "consume.py",  # events in
        "publish.py",  # events out
        "/api/v1/audit",  # the audit log
    ):
        assert step in script, step


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _port_base() -> int:
    while True:
        base = free_port()
        if all(_free(base + i) for i in range(7)):
            return base


@dataclass
class Mesh:
    base: int
    data_dir: Path
    topic_prefix: str
    kafka: str

    def url(self, offset: int) -> str:
        return f"http://127.0.0.1:{self.base + offset}"


@pytest.fixture
def mesh(kafka: Any, tmp_path: Path) -> Iterator[Mesh]:
    """`make run`'s mesh (deploy/local/mesh.py run), on free ports, until the test ends."""
    base = _port_base()
    data = tmp_path / "data"
    prefix = f"tut{base}."
    log_path = tmp_path / "mesh.log"
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        MESH_TOPIC_PREFIX=prefix,
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "deploy/local/mesh.py", "run", "--port-base", str(base)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--data-dir", str(data)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while MESH_UP not in log_path.read_text(errors="replace"):
            if proc.poll() is not None:
                pytest.fail(f"the mesh exited ({proc.returncode}):\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"the mesh was not up within 180 s:\n{_tail(log_path)}")
            time.sleep(0.5)  # polling interval
        yield Mesh(base, data, prefix, kafka.bootstrap_servers)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)  # mesh.py stops its services (Kafka is not its own)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _tail(path: Path, chars: int = 6000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def test_an_agency_integrates_from_the_tutorial_alone(mesh: Mesh, tmp_path: Path) -> None:
    started = time.monotonic()
    blocks = bash_blocks(DOC.read_text())
    script = "set -euo pipefail\n" + "".join(
        f"{block}\nprintf '\\n{MARK.format(i)}\\n'\n" for i, block in enumerate(blocks)
    )
    work = tmp_path / "work"
    work.mkdir()
    env = dict(
        os.environ,
        MESH_REPO=str(ROOT),
        GATEWAY=mesh.url(0),
        IDENTITY=mesh.url(1),
        SECRETS=str(mesh.data_dir / "dev-secrets.json"),
        KAFKA=mesh.kafka,
        TOPIC_PREFIX=mesh.topic_prefix,
        AGENCY_PORT=str(mesh.base + 6),
        PYTHON=sys.executable,  # the workspace's interpreter: what `uv run --project` gives
        WORK=str(work),
    )
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=150)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the agency.py it started, if a block failed
        proc.wait(timeout=10)
    done = [i for i in range(len(blocks)) if MARK.format(i) in out]
    failed = len(done)
    assert proc.returncode == 0 and done == list(range(len(blocks))), (
        f"block {failed} failed (exit {proc.returncode}):\n"
        f"{blocks[failed] if failed < len(blocks) else ''}\n--- output ---\n{out[-6000:]}"
    )

    # what the blocks left behind: the same facts, read independently of their jq checks
    def read(name: str) -> Any:
        return json.loads((work / name).read_text())

    assert read("member.json")["openapi"]["operations"] == 1
    assert read("bypass.json")["status"] == 401
    assert read("no-purpose.json")["status"] == 422
    assert read("person.json")["iin"] == "900115300122"
    assert "x-road-service:" in (work / "r1-headers.txt").read_text().lower()
    diplomas = read("diplomas.json")
    assert diplomas["asked_by"] == "licensing"
    assert diplomas["service"] == "ed-diploma-record"
    assert diplomas["purpose"] == "pharmacy license: qualification of the applicant"
    event = read("member-event.json")
    assert event["type"] == "kz.egov.gateway.member.changed.v1"
    assert event["specversion"] == "1.0" and event["subject"] == "education"
    record = read("audit.json")["items"][0]
    assert (record["client"], record["agency"], record["status"]) == ("licensing", "education", 200)
    assert record["request_id"] == "lic-tutorial-0001"
    assert time.monotonic() - started < 150
