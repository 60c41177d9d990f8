"""httpx client for calls through the e-government gateway (``/x/{agency}/{path}``).

Propagates the request id and W3C trace context of the current request or event, declares
the purpose (legal basis) and the person on whose behalf, authenticates as the calling
agency with a client-credentials token, and turns problem answers into typed errors.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from pydantic import BaseModel

from meshkit import context
from meshkit.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    Unauthenticated,
    UpstreamUnavailable,
)


class ClientCredentials(BaseModel):
    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None


class TokenProvider:
    """OAuth2 client credentials against svc-identity, cached until shortly before expiry."""

    def __init__(self, creds: ClientCredentials, http: httpx.AsyncClient) -> None:
        self._creds = creds
        self._http = http
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._expires - 30:
                return self._token
            data = {"grant_type": "client_credentials"}
            if self._creds.scope:
                data["scope"] = self._creds.scope
            resp = await self._http.post(
                self._creds.token_url,
                data=data,
                auth=(self._creds.client_id, self._creds.client_secret),
            )
            if resp.status_code != 200:
                raise Unauthenticated(f"could not obtain an agency token ({resp.status_code})")
            body = resp.json()
            self._token = str(body["access_token"])
            self._expires = time.monotonic() + float(body.get("expires_in", 300))
            return self._token


_ERROR_BY_STATUS: dict[int, type[DomainError]] = {
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: RuleViolation,
}


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        *,
        client_code: str,
        token_provider: TokenProvider | None = None,
        static_token: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.client_code = client_code
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_s, connect=3.0),
            transport=transport,
        )
        self._tokens = token_provider
        self._static_token = static_token

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    def _headers(self, *, purpose: str | None, on_behalf_of: str | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        rid = context.current_request_id()
        if rid:
            headers["X-Request-Id"] = rid
        # the application this call works for travels on: the events it causes carry it
        correlation = context.current_correlation_id()
        if correlation:
            headers["X-Correlation-Id"] = correlation
        trace = context.current_trace()
        headers["traceparent"] = (trace.child() if trace else context.TraceContext.new()).header
        if purpose:
            headers["X-Mesh-Purpose"] = purpose
        if on_behalf_of:
            headers["X-Mesh-User"] = on_behalf_of
        return headers

    async def request(
        self,
        method: str,
        agency: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        purpose: str | None = None,
        on_behalf_of: str | None = None,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        hdrs = self._headers(purpose=purpose, on_behalf_of=on_behalf_of)
        if idempotency_key:
            hdrs["Idempotency-Key"] = idempotency_key
        if headers:
            hdrs.update(headers)
        token = self._static_token or (await self._tokens.token() if self._tokens else None)
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        url = f"/x/{agency}/{path.lstrip('/')}"
        try:
            return await self._http.request(method, url, json=json, params=params, headers=hdrs)
        except httpx.TimeoutException as exc:
            raise UpstreamUnavailable(f"{agency} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"the gateway is unreachable ({type(exc).__name__})") from exc

    async def call(self, method: str, agency: str, path: str, **kwargs: Any) -> Any:
        """Like :meth:`request`, but returns the JSON body and raises typed errors."""
        resp = await self.request(method, agency, path, **kwargs)
        if resp.status_code < 400:
            return resp.json() if resp.content else None
        try:
            problem = resp.json()
        except ValueError:
            problem = {"title": resp.reason_phrase, "status": resp.status_code}
        if resp.status_code >= 500 or resp.status_code == 429:
            raise UpstreamUnavailable(
                f"{agency}: {problem.get('detail') or problem.get('title')}",
                retry_after_s=int(resp.headers.get("Retry-After", "1") or 1),
            )
        err_cls = _ERROR_BY_STATUS.get(resp.status_code, RuleViolation)
        err = err_cls(
            f"{agency}: {problem.get('detail') or problem.get('title')}",
            errors={str(k): str(v) for k, v in (problem.get("errors") or {}).items()},
        )
        raise err

    async def get(self, agency: str, path: str, **kwargs: Any) -> Any:
        return await self.call("GET", agency, path, **kwargs)

    async def post(self, agency: str, path: str, **kwargs: Any) -> Any:
        return await self.call("POST", agency, path, **kwargs)
