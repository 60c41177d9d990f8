"""RFC 9457 problem+json for every error of every service.

Validation → 422 with ``errors`` (field → message); domain errors → their status; anything
unexpected → 500 carrying only the request id. Never a stack trace, SQL or a hostname.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from meshkit.db import is_infrastructure_error
from meshkit.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    TooManyRequests,
    Unauthenticated,
    UpstreamUnavailable,
)

log = structlog.get_logger("meshkit.problems")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://egov-mesh.kz/problems/"

_STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (PermissionDenied, 403),
    (Unauthenticated, 401),
    (TooManyRequests, 429),
    (UpstreamUnavailable, 503),
    (RuleViolation, 422),
    (DomainError, 422),
]


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[PROBLEM_BASE + "validation-error"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="the request id")
    errors: dict[str, str] | None = Field(
        default=None, description="field → message, for validation failures"
    )


class ProblemError(Exception):
    """Raise from an entrypoint to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or _slug(HTTPStatus(status).phrase)
        self.title = title or HTTPStatus(status).phrase
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-").replace("'", "")


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem_response(
    request: Request,
    status: int,
    *,
    code: str,
    title: str,
    detail: str | None,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    rid = _request_id(request)
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": rid,
    }
    if errors:
        body["errors"] = dict(errors)
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    out_headers = dict(headers or {})
    if rid:
        out_headers.setdefault("X-Request-Id", rid)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=out_headers)


def status_for(error: DomainError) -> int:
    for cls, status in _STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 422


def field_errors(errors: Sequence[Any]) -> dict[str, str]:
    """pydantic/FastAPI error list → {"field.path": "message"}."""
    out: dict[str, str] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:] or ["body"]
        key = ".".join(loc) or "request"
        msg = str(err.get("msg", "invalid value"))
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix) :]
        out.setdefault(key, msg)
    return out


def install_problem_handlers(app: FastAPI) -> None:
    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc.errors())
        return problem_response(
            request,
            422,
            code="validation-error",
            title="Your request is not valid",
            detail="; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5]),
            errors=errors,
        )

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        headers: dict[str, str] = {}
        retry = getattr(exc, "retry_after_s", None)
        if retry is not None:
            headers["Retry-After"] = str(retry)
        return problem_response(
            request,
            status_for(exc),
            code=exc.code.replace("_", "-"),
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors or None,
            headers=headers,
        )

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(
            request,
            exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        if status == 404 and detail == "Not Found":
            detail = f"There is nothing at {request.url.path}"
        if status == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(
            request,
            status,
            code=_slug(phrase),
            title=phrase,
            detail=detail,
            headers=getattr(exc, "headers", None),
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_infrastructure_error(exc):
            # the database is down or restarting: the request may well succeed later
            log.warning("http.dependency_unavailable", path=request.url.path, error=repr(exc))
            return problem_response(
                request,
                503,
                code="service-unavailable",
                title="Service temporarily unavailable",
                detail="A system this service depends on is unavailable; try again shortly.",
                headers={"Retry-After": "5"},
            )
        log.error(
            "http.unhandled_error",
            path=request.url.path,
            error_type=type(exc).__name__,
            exc_info=exc,
        )
        return problem_response(
            request,
            500,
            code="internal-error",
            title="Internal error",
            detail="The service failed to answer this request. Quote the request id "
            "(instance) when you report it.",
        )

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


#: ready-made OpenAPI ``responses`` entries so every operation documents its problems
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": desc}
    for status, desc in [
        (401, "Not authenticated"),
        (403, "Not allowed"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Invalid input (field errors in `errors`)"),
    ]
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``PROBLEM_RESPONSES`` plus more documented problem statuses (e.g. 400 of OAuth)."""
    extra: dict[int | str, dict[str, Any]] = {
        s: {
            "model": Problem,
            "content": {PROBLEM_JSON: {}},
            "description": HTTPStatus(s).phrase,
        }
        for s in statuses
    }
    return {**PROBLEM_RESPONSES, **extra}
