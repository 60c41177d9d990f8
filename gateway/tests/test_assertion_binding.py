"""Issue 19: the assertion an agency receives binds the query string and the body exactly as
forwarded (``htq``, ``bdh``) — for a buffered body, a large one the gateway spools and streams,
and a query — and the agency (meshkit's verifier) accepts it."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from meshkit_testing.gateway import start_mesh

PURPOSE = {"X-Mesh-Purpose": "issue 19: binding check"}


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    out: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return out


def _bdh(body: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()


async def test_the_assertion_binds_the_query_and_the_body_as_forwarded(
    tmp_path: Path, db_url: str
) -> None:
    async for mesh in start_mesh(tmp_path, db_url, buffer_request_bytes=1024):
        mesh.register.grant("licensing", "identity:POST /echo")
        mesh.register.grant("licensing", "identity:GET /big")
        hdrs = {**mesh.agency("licensing"), **PURPOSE}
        ident = mesh.doubles["identity"]

        async def chunked(body: bytes) -> Any:
            for i in range(0, len(body), 10_000):
                yield body[i : i + 10_000]

        small = b'{"iin": "900115300122", "note": "\xd3\x99"}'
        large = bytes(range(256)) * 800  # 200 kB: beyond buffer_request_bytes, spooled
        for label, content in (
            ("small", small),
            ("large", large),
            ("large, chunked", chunked(large)),
            ("empty", b""),
        ):
            sent = large if label.startswith("large") else small if label == "small" else b""
            r = await mesh.gateway.post("/x/identity/echo?a=1&b=%20", content=content, headers=hdrs)
            assert r.status_code == 200, (label, r.text)
            got = ident.calls[-1]
            assert got["body_sha256"] == hashlib.sha256(sent).hexdigest(), label
            claims = _claims(got["headers"]["x-mesh-assertion"])
            assert claims["bdh"] == _bdh(sent), label
            assert claims["htq"] == got["query"] == "a=1&b=%20", label

        r = await mesh.gateway.get("/x/identity/big?size=10&x=%C3%A4+y", headers=hdrs)
        assert r.status_code == 200 and len(r.content) == 10
        claims = _claims(ident.calls[-1]["headers"]["x-mesh-assertion"])
        assert claims["htq"] == ident.calls[-1]["query"] == "size=10&x=%C3%A4+y"
        assert claims["bdh"] == _bdh(b"") == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
