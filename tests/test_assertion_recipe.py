"""The Node recipe of docs/gateway-assertion.md (docs/recipes/verify-assertion/verify.mjs) accepts
an assertion a real gateway signed for a real routed call — checked against that gateway's
JWKS over HTTP — and refuses it tampered, expired, for another agency, method, path, query
string or body (issue 19: the gateway binds both, a small body and a large spooled one).

A gateway process (dev mode, no Kafka) routes a public operation of a capturing agency
registered through the admin API, as an outside agency would be; the agency keeps the headers
it was sent.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshkit.devsecrets import dev_secret
from meshkit_testing.processes import ServiceProcesses, free_ports

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "docs" / "recipes" / "verify-assertion"
NODE = shutil.which("node")
NPM = shutil.which("npm")
AGENCY = "capture"
AGENCY_BIN = "240340019062"  # a valid BIN no seeded member uses
OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "capture", "version": "1"},
    "paths": {
        "/public/echo": {
            "get": {"summary": "echo", "responses": {"200": {"description": "ok"}}},
            "post": {"summary": "echo", "responses": {"200": {"description": "ok"}}},
        }
    },
}


@dataclass
class Captured:
    calls: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(captured: Captured) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if self.path == "/openapi.json":
                body = json.dumps(OPENAPI).encode()
            elif self.path.startswith("/health/"):
                body = b'{"status": "ready"}'
            else:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                with captured.lock:
                    captured.calls.append(
                        {"path": self.path, "headers": dict(self.headers.items()), "body": raw}
                    )
                body = b"{}"
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def recipe() -> Path:
    if NODE is None or NPM is None:
        pytest.skip("node/npm are not installed")
    done = subprocess.run(
        [NPM, "ci", "--prefix", str(RECIPE), "--no-audit", "--no-fund", "--prefer-offline"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return RECIPE / "verify.mjs"


@dataclass
class Gateway:
    url: str
    captured: Captured
    agency_url: str


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    data = tmp_path_factory.mktemp("gateway")
    captured = Captured()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(captured))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    agency_url = f"http://127.0.0.1:{server.server_address[1]}"
    (port,) = free_ports(1)
    procs = ServiceProcesses(data / "gateway.log")
    url = f"http://127.0.0.1:{port}"
    proc = procs.spawn(
        "egov_gateway",
        {
            "GATEWAY_PORT": str(port),
            "MESH_DATA_DIR": str(data),
            "MESH_DEV_MODE": "true",
            "MESH_LOG_JSON": "false",
            "GATEWAY_KAFKA_ENABLED": "false",
            "GATEWAY_REGISTER_OPTIONS__SEED": "false",
            "GATEWAY_PUBLIC_URL": url,
        },
    )
    try:
        _wait_live(url, proc, procs, within=120)

        admin = dev_secret("gateway-admin", data)
        r = httpx.post(
            f"{url}/api/v1/admin/members",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "code": AGENCY,
                "member_code": AGENCY_BIN,
                "names": {"kk": "Ұстаушы", "ru": "Перехватчик", "en": "Capture"},
                "base_urls": [agency_url],
                "public_prefixes": ["/public/"],
            },
            timeout=30,
        )
        assert r.status_code == 201, r.text
        assert r.json()["openapi"]["operations"] == 2, r.text
        yield Gateway(url, captured, agency_url)
    finally:
        procs.stop_all()
        server.shutdown()


def _wait_live(
    url: str, proc: subprocess.Popen[bytes], procs: ServiceProcesses, *, within: float
) -> None:
    deadline = time.monotonic() + within
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the gateway exited ({proc.returncode}): {procs.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health/live", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"the gateway did not start within {within}s: {procs.log_tail()}")
        time.sleep(0.2)  # polling interval


def _routed(gw: Gateway, method: str, target: str, body: bytes = b"") -> dict[str, Any]:
    """One call through the gateway; what the agency received."""
    before = len(gw.captured.calls)
    r = httpx.request(method, f"{gw.url}/x/{AGENCY}{target}", content=body or None, timeout=30)
    assert r.status_code == 200, r.text
    assert len(gw.captured.calls) == before + 1
    call = gw.captured.calls[-1]
    headers = {k.lower(): v for k, v in call["headers"].items()}
    assert headers.get("x-request-id") == r.headers["x-request-id"]
    return {"headers": headers, "body": call["body"]}


def _verify(recipe: Path, gw: Gateway, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, str(recipe), "--jwks", f"{gw.url}/.well-known/jwks.json", *args],
        input=token,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _reason(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    out = json.loads(done.stderr)
    assert out["ok"] is False
    return str(out["reason"])


def test_the_recipe_accepts_a_real_assertion_and_refuses_what_is_not_it(
    recipe: Path, gateway: Gateway
) -> None:
    got = _routed(gateway, "GET", "/public/echo?kind=diploma&year=2024")
    token = got["headers"]["x-mesh-assertion"]
    request_id = got["headers"]["x-request-id"]
    good = ["--agency", AGENCY, "--method", "GET", "--path", "/public/echo"]
    good += ["--query", "kind=diploma&year=2024", "--request-id", request_id]

    ok = _verify(recipe, gateway, token, *good)
    assert ok.returncode == 0, ok.stderr
    claims = json.loads(ok.stdout)
    assert claims["iss"] == "egov-gateway"
    assert claims["aud"] == AGENCY
    assert claims["htm"] == "GET"
    assert claims["htu"] == "/public/echo"
    assert claims["jti"] == request_id
    assert claims["exp"] - claims["iat"] == 60
    assert claims["sub"] == "anonymous"  # a public operation: no caller token
    assert claims["nonce"]

    # the JWT as an argument instead of on stdin; none at all is wrong usage (2)
    assert _verify(recipe, gateway, "", *good).returncode == 2
    by_arg = _verify(recipe, gateway, "", *good, "--assertion", token)
    assert by_arg.returncode == 0, by_arg.stderr

    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert "signature" in _reason(_verify(recipe, gateway, f"{head}.{payload}.{flipped}", *good))

    other_path = [a if a != "/public/echo" else "/public/other" for a in good]
    assert "htu" in _reason(_verify(recipe, gateway, token, *other_path))
    other_method = [a if a != "GET" else "POST" for a in good]
    assert "htm" in _reason(_verify(recipe, gateway, token, *other_method))
    other_agency = [a if a != AGENCY else "registry" for a in good]
    assert "aud" in _reason(_verify(recipe, gateway, token, *other_agency))
    other_request = [a if a != request_id else "another-request" for a in good]
    assert "X-Request-Id" in _reason(_verify(recipe, gateway, token, *other_request))
    later = str(int(claims["exp"]) + 10)
    assert "expired" in _reason(_verify(recipe, gateway, token, *good, "--now", later))
    assert claims["htq"] == "kind=diploma&year=2024"
    other_query = [a if a != "kind=diploma&year=2024" else "kind=diploma" for a in good]
    assert "htq" in _reason(_verify(recipe, gateway, token, *other_query))
    no_query = [a for a in good if a not in ("--query", "kind=diploma&year=2024")]
    assert "htq" in _reason(_verify(recipe, gateway, token, *no_query))
    # a GET carries no body: bound to the digest of the empty body
    assert claims["bdh"] == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_recipe_checks_the_body_binding(
    recipe: Path, gateway: Gateway, tmp_path: Path, size: str
) -> None:
    body = json.dumps({"iin": "900115300122", "note": "Әлихан"}).encode()
    if size == "large":  # beyond the gateway's 64 KiB buffer: spooled, then streamed
        body = json.dumps({"iin": "900115300122", "note": "Ә" * 30_000}).encode()
    got = _routed(gateway, "POST", "/public/echo", body)
    assert got["body"] == body
    token = got["headers"]["x-mesh-assertion"]
    sent = tmp_path / "body.json"
    sent.write_bytes(body)
    args = ["--agency", AGENCY, "--method", "POST", "--path", "/public/echo"]
    ok = _verify(recipe, gateway, token, *args, "--body-file", str(sent))
    assert ok.returncode == 0, ok.stderr
    claims = json.loads(ok.stdout)
    assert claims["htm"] == "POST" and claims["htq"] == ""
    forged = tmp_path / "forged.json"
    forged.write_bytes(body.replace(b"900115300122", b"920308400210"))
    assert "bdh" in _reason(_verify(recipe, gateway, token, *args, "--body-file", str(forged)))
    assert "bdh" in _reason(_verify(recipe, gateway, token, *args))  # no body
    assert "htq" in _reason(_verify(recipe, gateway, token, *args, "--query", "a=1"))


def test_the_recipe_refuses_an_assertion_without_the_bindings(recipe: Path) -> None:
    """Signed by a published key but without ``htq`` or ``bdh``: refused — the claims are
    required, not checked only when present. (A local key set: the gateway never omits them.)"""
    from meshkit.auth.keys import KeyRing, SigningKey

    ring = KeyRing(SigningKey.generate())
    jwks = json.dumps(ring.jwks()).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        now = int(time.time())
        claims = {
            "iss": "egov-gateway",
            "aud": AGENCY,
            "sub": "licensing",
            "iat": now,
            "exp": now + 60,
            "jti": "req-no-binding",
            "htm": "GET",
            "htu": "/public/echo",
            "htq": "",
            "bdh": "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
            "nonce": "n-0001",
        }
        url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        args = ["--jwks", url, "--agency", AGENCY, "--method", "GET", "--path", "/public/echo"]

        def run(token: str) -> subprocess.CompletedProcess[str]:
            assert NODE is not None
            return subprocess.run(
                [NODE, str(recipe), *args],
                input=token,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        whole = run(ring.current.sign(claims))
        assert whole.returncode == 0, whole.stderr  # the local key set itself works
        for missing in ("htq", "bdh"):
            partial = {k: v for k, v in claims.items() if k != missing}
            assert missing in _reason(run(ring.current.sign(partial)))
    finally:
        server.shutdown()
