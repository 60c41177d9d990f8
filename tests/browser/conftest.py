"""Fixtures of the browser tests: the whole mesh as `make run` starts it, and Debian's Chromium
driven headless by Playwright (no browser is downloaded: `make browsers` installs Chromium)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshkit.devsecrets import dev_secret
from meshkit_testing.devinfra import free_port
from meshkit_testing.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("EGOV_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclass
class LiveMesh:
    """The six services started by deploy/local/mesh.py on real ports, with their data dir."""

    base_port: int
    data_dir: Path
    log_dir: Path
    procs: dict[str, subprocess.Popen[bytes]]

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.base_port}"

    @property
    def identity(self) -> str:
        return f"http://127.0.0.1:{self.base_port + 1}"

    def password(self) -> str:
        return dev_secret("demo-citizen-password", self.data_dir)

    async def latest_code(self, phone: str, after_id: int) -> str:
        """The newest login code texted to ``phone`` (identity's dev-only SMS outbox)."""
        found: list[str] = []

        async def texted() -> bool:
            async with httpx.AsyncClient(timeout=10) as c:
                r = await c.get(f"{self.identity}/dev/sms", params={"phone": phone})
            r.raise_for_status()
            codes = [m["code"] for m in r.json() if m.get("code") and m["id"] > after_id]
            found[:] = codes[:1]
            return bool(found)

        await eventually(texted, within=30, what=f"a login code texted to {phone}")
        return found[0]

    async def login(self, iin: str, phone: str) -> str:
        """An access token of a demo citizen (password, then the texted code), for the steps a
        journey needs from another person than the one at the browser."""
        after = await self.last_sms_id(phone)
        async with httpx.AsyncClient(timeout=30) as c:
            r = await c.post(
                f"{self.identity}/auth/login", json={"iin": iin, "password": self.password()}
            )
            r.raise_for_status()
            challenge = r.json()["challenge_id"]
            code = await self.latest_code(phone, after)
            r = await c.post(
                f"{self.identity}/auth/otp", json={"challenge_id": challenge, "code": code}
            )
            r.raise_for_status()
            return str(r.json()["access_token"])

    async def last_sms_id(self, phone: str) -> int:
        async with httpx.AsyncClient(timeout=10) as c:
            r = await c.get(f"{self.identity}/dev/sms", params={"phone": phone})
        r.raise_for_status()
        return max((int(m["id"]) for m in r.json()), default=0)

    def exited(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    def log_tail(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


SERVICES = [  # (name, env prefix, offset from the port base) — as deploy/local/mesh.py runs them
    ("gateway", "GATEWAY", 0),
    ("identity", "IDENTITY", 1),
    ("registry", "REGISTRY", 2),
    ("licensing", "LICENSING", 3),
    ("payments", "PAYMENTS", 4),
    ("notary", "NOTARY", 5),
]


def _launch(base: int, data_dir: Path, log_dir: Path, env: dict[str, str]) -> LiveMesh:
    env = dict(env)
    env.update(
        MESH_DATA_DIR=str(data_dir),
        MESH_DEV_MODE="true",
        MESH_LOG_JSON="false",
        MESH_GATEWAY_URL=f"http://127.0.0.1:{base}",
        MESH_IDENTITY_URL=f"http://127.0.0.1:{base + 1}",
    )
    # the gateway's register seeds the agencies on their default ports unless told otherwise
    env["GATEWAY_AGENCY_URLS"] = json.dumps(
        {name: f"http://127.0.0.1:{base + off}" for name, _, off in SERVICES[1:]}
    )
    for _name, prefix, offset in SERVICES:
        env[f"{prefix}_PORT"] = str(base + offset)
        env[f"{prefix}_PUBLIC_URL"] = f"http://127.0.0.1:{base + offset}"
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, _, _ in SERVICES:
        with open(log_dir / f"{name}.log", "wb") as out:
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", f"egov_{name}", "serve"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    return LiveMesh(base, data_dir, log_dir, procs)


def _chromium_present() -> bool:
    return CHROMIUM.exists()


@pytest.fixture(scope="session")
async def live_mesh(
    kafka: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveMesh]:
    base = free_port()
    while any(not _free(base + i) for i in range(6)):
        base = free_port()
    data_dir = tmp_path_factory.mktemp("browser-mesh")
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
        MESH_TOPIC_PREFIX=f"b{uuid.uuid4().hex[:8]}.",
        PYTHONUNBUFFERED="1",
    )
    # the services' logs are artifacts too (the data dir is a throwaway temporary folder)
    log_dir = ROOT / "test-artifacts" / "browser-mesh-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    mesh = _launch(base, data_dir, log_dir, env)
    try:
        waiting = {"last": ""}
        async with httpx.AsyncClient(timeout=5) as client:

            async def ready() -> bool:
                if exited := mesh.exited():
                    name = next(iter(exited))
                    pytest.fail(f"{name} exited with {exited[name]}:\n{mesh.log_tail(name)}")
                for name, _, offset in SERVICES:
                    try:
                        r = await client.get(f"http://127.0.0.1:{base + offset}/health/ready")
                    except httpx.HTTPError as exc:
                        waiting["last"] = f"{name}: {exc!r}"
                        return False
                    if r.status_code != 200:
                        waiting["last"] = f"{name}: {r.status_code} {r.text[:300]}"
                        return False
                # the gateway routes an agency's operations once it has its OpenAPI document
                r = await client.get(f"http://127.0.0.1:{base}/api/v1/register/health")
                members = r.json()["members"] if r.status_code == 200 else []
                waiting["last"] = f"register health: {r.text[:1500]}"
                return bool(members) and all(m["document_fetched_at"] for m in members)

            # generous: CI machines are shared and six services migrate and start at once
            try:
                await eventually(ready, within=300, what="the six services ready", interval=1.0)
            except pytest.fail.Exception:
                tails = "\n".join(f"--- {n}\n{mesh.log_tail(n)[-1500:]}" for n, _, _ in SERVICES)
                pytest.fail(f"the mesh is not ready; last: {waiting['last']}\n{tails}")
        yield mesh
    finally:
        mesh.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not _chromium_present():
        pytest.fail(f"{CHROMIUM} is missing: run `make browsers` (apt-get install chromium)")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield b
        finally:
            await b.close()


@dataclass
class Shots:
    """Screenshots of one test under test-artifacts/screenshots/<test>/NN-name.png."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    async def take(self, page: Any, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[Shots]:
    folder = SCREENSHOTS / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    yield Shots(folder)


@dataclass
class PageProblems:
    """Console errors and uncaught exceptions (a CSP violation is a console error)."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on(
            "console",
            lambda m: (
                self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))


@contextlib.asynccontextmanager
async def new_page(
    browser: Any, viewport: dict[str, int], lang: str = "en"
) -> AsyncIterator[tuple[Any, PageProblems]]:
    context = await browser.new_context(viewport=viewport, locale="en-GB")
    await context.add_init_script(f"localStorage.setItem('egov.lang', '{lang}')")
    page = await context.new_page()
    page.set_default_timeout(20_000)
    problems = PageProblems()
    problems.watch(page)
    try:
        yield page, problems
    finally:
        await context.close()
