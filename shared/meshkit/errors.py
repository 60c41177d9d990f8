"""Domain-level errors. The domain raises these; entrypoints translate them to problem+json.

They carry a kind (what went wrong, in the domain's words), never an HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base for every rule a domain can refuse on."""

    kind = "rule_violation"
    title = "The request breaks a rule of the service"

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors or {})
        self.code = code or self.kind


class RuleViolation(DomainError):
    """Well-formed input that the domain refuses (→ 422)."""


class NotFound(DomainError):
    kind = "not_found"
    title = "Not found"


class Conflict(DomainError):
    kind = "conflict"
    title = "Conflict with the current state"


class PermissionDenied(DomainError):
    kind = "forbidden"
    title = "Not allowed"


class Unauthenticated(DomainError):
    kind = "unauthenticated"
    title = "Authentication required"


class UpstreamUnavailable(DomainError):
    kind = "unavailable"
    title = "A service this one depends on is unavailable"

    def __init__(self, detail: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class TooManyRequests(DomainError):
    kind = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s
