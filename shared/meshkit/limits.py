"""Request hardening every service gets: a body size limit and JSON-only JSON endpoints.

Pure ASGI (no BaseHTTPMiddleware), so it adds no per-request task and streams:

* a body larger than ``settings.max_body_bytes`` (default 1 MiB) is refused with a 413
  problem — at once when ``Content-Length`` says so, otherwise as soon as the bytes received
  pass the limit (the rest is never read, and never more than the limit is held);
* a request whose route takes a JSON body but which declares another content type
  (``text/plain``, ``multipart/form-data``, XML, …) is refused with a 415 problem before
  the handler runs. Routes that take a form, a file or read the raw body themselves are left
  alone: only the route's declared body decides.

* a NUL character (U+0000) in the path, the query or a JSON string is refused with a 422
  problem: no text column of PostgreSQL can store one, so it could only ever end in a 500.
* a JSON body nested deeper than ``MAX_JSON_DEPTH`` (32) arrays/objects is refused with a 422
  problem before anything parses it (issue 16): ``json.loads`` of 50,000 levels raises
  ``RecursionError`` (a 500 where a handler parses the raw body itself, like payments' signed
  acquirer callback), and a few hundred levels that do parse break later recursions
  (serialisation, schema validation). :func:`json_too_deep` scans the raw bytes in linear
  time; a body of at most 32 brackets is not scanned at all.

Every answer is RFC 9457 ``application/problem+json`` carrying the request id.
"""

from __future__ import annotations

import email.message
import json
import re
from collections.abc import Sequence
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshkit.problems import PROBLEM_BASE, PROBLEM_JSON

DEFAULT_MAX_BODY_BYTES = 1_048_576
#: the deepest nesting of arrays and objects any JSON body may have
MAX_JSON_DEPTH = 32

# a JSON \u0000 escape (an even number of backslashes before it: "\\u0000" is text)
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


# keep only the brackets, objects' as arrays' (only the depth matters)
_BRACKETS_ONLY = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``body`` nests arrays/objects deeper than ``max_depth`` (or its
    brackets do not pair up, which no parser accepts either) — decided without parsing, in
    a few C-speed passes over the bytes (a 1 MiB body in milliseconds).

    The escapes are dropped (an escaped backslash, then an escaped quote), so every other
    quote delimits a string and the strings are cut out; of the rest only the brackets are
    kept and the innermost pairs removed ``max_depth`` times: whatever is left was deeper.
    """
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(body.split(b'"')[0::2])
    brackets = outside_strings.translate(_BRACKETS_ONLY, _NOT_BRACKETS)
    too_deep_run = b"[" * (max_depth + 1)  # that many openers in a row: deeper at once
    for _ in range(max_depth):
        if not brackets:
            return False
        if too_deep_run in brackets:
            return True
        inner_removed = brackets.replace(b"[]", b"")
        if len(inner_removed) == len(brackets):
            return True  # brackets that never pair: not JSON
        brackets = inner_removed
    return bool(brackets)


def is_json_content_type(value: str) -> bool:
    message = email.message.Message()
    message["content-type"] = value
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def _body_takes_json(route: Any) -> bool | None:
    body_field = getattr(route, "body_field", None)
    if body_field is None:
        return None
    media = getattr(getattr(body_field, "field_info", None), "media_type", "application/json")
    return is_json_content_type(str(media))


def _flat_routes(routes: Any) -> list[Any]:
    """Every endpoint route, with FastAPI's included-router branches (0.16x) flattened into
    routes whose path carries the include prefixes."""
    flat: list[Any] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            flat.append(route)
            continue
        for ctx in contexts():
            original = ctx.original_route
            if ctx.path and getattr(original, "path", ctx.path) != ctx.path:
                # an include prefix: match on the effective path
                original = _Prefixed(original, ctx.path)
            flat.append(original)
    return flat


class _Prefixed:
    """A route seen at its effective (prefixed) path, only for matching."""

    def __init__(self, route: Any, path: str) -> None:
        from starlette.routing import compile_path

        self.route = route
        self.body_field = getattr(route, "body_field", None)
        self.methods = getattr(route, "methods", None)
        self.path_regex, _, _ = compile_path(path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not self.path_regex.match(scope.get("path", "")):
            return Match.NONE, {}
        if self.methods and scope.get("method") not in self.methods:
            return Match.PARTIAL, {}
        return Match.FULL, {}


def _json_body_route(scope: Scope) -> bool | None:
    """Whether the route ``scope`` reaches takes a JSON body (None: no route, no body)."""
    app = scope.get("app")
    router = getattr(app, "router", None)
    if router is None:
        return None
    # flattening costs a walk of the routers: once per app, again only if routes were added
    cached = getattr(router, "_meshkit_flat_routes", None)
    if cached is not None and cached[0] == len(router.routes):
        routes = cached[1]
    else:
        routes = _flat_routes(router.routes)
        router._meshkit_flat_routes = (len(router.routes), routes)
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return _body_takes_json(route)
    return None


class RequestLimitsMiddleware:
    """``self_limited``: routes that read, limit and stream their bodies themselves (the
    gateway's routed exchange, up to its own ``MAX_REQUEST_BYTES``): only the URL is checked."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        self_limited: Sequence[Any] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.self_limited = list(self_limited)
        self._prefixes = tuple(str(r.path).split("{", 1)[0] for r in self.self_limited)

    def _limits_itself(self, scope: Scope) -> bool:
        if not self._prefixes or not scope.get("path", "").startswith(self._prefixes):
            return False
        return any(r.matches(scope)[0] == Match.FULL for r in self.self_limited)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._limits_itself(scope):
            if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
                await _nul_refused(scope, send, "the URL")
                return
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await _nul_refused(scope, send, "the URL")
            return
        content_type = headers.get("content-type")
        if content_type and not is_json_content_type(content_type) and _json_body_route(scope):
            await _problem(
                scope,
                send,
                415,
                "unsupported-media-type",
                "Unsupported Media Type",
                f"this operation takes application/json, not {content_type.split(';')[0]}",
            )
            return
        # read the body up to the limit before the app sees it, so an oversized body is
        # refused whether or not a handler would have read it; then replay it
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # disconnected: let the app see it
                replay = _replay(chunks, receive, first=message)
                await self.app(scope, replay, send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                await self._too_large(scope, send)
                return
            if body:
                chunks.append(body)
            more = bool(message.get("more_body", False))
        json_body = content_type is None or is_json_content_type(content_type)
        if chunks and json_body:
            body = b"".join(chunks)
            if _JSON_NUL.search(body):
                await _nul_refused(scope, send, "a JSON string of the body")
                return
            if json_too_deep(body):
                too_deep = f"nests arrays/objects deeper than {MAX_JSON_DEPTH} levels"
                await _problem(
                    scope,
                    send,
                    422,
                    "validation-error",
                    "Your request is not valid",
                    f"the JSON body {too_deep}",
                    errors={"body": too_deep},
                )
                return
        await self.app(scope, _replay(chunks, receive), send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await _problem(
            scope,
            send,
            413,
            "content-too-large",
            "Content Too Large",
            f"the request body is larger than {self.max_body_bytes} bytes",
        )


async def _nul_refused(scope: Scope, send: Send, where: str) -> None:
    message = "contains a NUL character (U+0000), which no field accepts"
    await _problem(
        scope,
        send,
        422,
        "validation-error",
        "Your request is not valid",
        f"{where} {message}",
        errors={"body" if "body" in where else "url": message},
    )


def _replay(chunks: list[bytes], receive: Receive, first: Message | None = None) -> Receive:
    pending: list[Message] = []
    if first is not None:
        pending.append(first)
    else:
        pending.append({"type": "http.request", "body": b"".join(chunks), "more_body": False})

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: dict[str, str] | None = None,
) -> None:
    state: dict[str, Any] = scope.get("state") or {}
    request_id = state.get("request_id")
    problem: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request_id,
    }
    if errors:
        problem["errors"] = errors
    body = json.dumps(problem).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
