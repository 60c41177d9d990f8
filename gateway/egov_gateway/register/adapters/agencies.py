"""HTTP to members: fetch a member's published OpenAPI document; probe its readiness."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import httpx


class FetchFailed(Exception):
    pass


@dataclass(frozen=True)
class FetchedDocument:
    document: dict[str, Any]
    text: str  # canonical JSON, what is stored
    sha256: str


class AgencyClient:
    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.http = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(timeout_s, connect=min(2.0, timeout_s))
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_openapi(self, base_url: str) -> FetchedDocument:
        url = f"{base_url.rstrip('/')}/openapi.json"
        try:
            r = await self.http.get(url)
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{type(exc).__name__} fetching {url}") from None
        if r.status_code != 200:
            raise FetchFailed(f"{url} answered {r.status_code}")
        try:
            doc = r.json()
        except ValueError:
            raise FetchFailed(f"{url} is not JSON") from None
        if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3."):
            raise FetchFailed(f"{url} is not an OpenAPI 3 document")
        if not isinstance(doc.get("paths"), dict):
            raise FetchFailed(f"{url} has no paths")
        text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return FetchedDocument(doc, text, hashlib.sha256(text.encode()).hexdigest())

    async def probe_ready(self, base_url: str) -> tuple[bool, str | None]:
        """(ready, why not): ``GET <base_url>/health/ready`` must answer 200."""
        url = f"{base_url.rstrip('/')}/health/ready"
        try:
            r = await self.http.get(url)
        except httpx.HTTPError as exc:
            return False, f"unreachable ({type(exc).__name__})"
        if r.status_code != 200:
            return False, f"not ready (HTTP {r.status_code})"
        return True, None
