"""Errors of the identity domain, in the domain's words (entrypoints map them to problems)."""

from __future__ import annotations

from datetime import datetime

from meshkit.errors import (
    Conflict,
    RuleViolation,
    TooManyRequests,
    Unauthenticated,
    UpstreamUnavailable,
)


class InvalidCredentials(Unauthenticated):
    kind = "invalid_credentials"
    title = "Wrong IIN or password"


class AccountLocked(TooManyRequests):
    kind = "account_locked"
    title = "The account is locked after repeated failed attempts"

    def __init__(self, locked_until: datetime, now: datetime) -> None:
        retry = max(1, int((locked_until - now).total_seconds()) + 1)
        super().__init__(
            f"too many failed attempts: login is locked until {locked_until.isoformat()} "
            f"(in {retry} s)",
            retry_after_s=retry,
        )
        self.locked_until = locked_until


class OtpInvalid(Unauthenticated):
    kind = "otp_invalid"
    title = "The one-time code is wrong"


class OtpExpired(Unauthenticated):
    kind = "otp_expired"
    title = "The one-time code has expired"


class OtpAlreadyUsed(Unauthenticated):
    kind = "otp_used"
    title = "The one-time code was already used"


class OtpAttemptsExceeded(TooManyRequests):
    kind = "otp_attempts_exceeded"
    title = "Too many wrong codes for this challenge"


class OtpRateLimited(TooManyRequests):
    kind = "otp_rate_limited"
    title = "Too many codes requested"


class ChallengeInvalid(Unauthenticated):
    kind = "challenge_invalid"
    title = "The login challenge is unknown, expired or used"


class InvalidGrant(Unauthenticated):
    """OAuth2 ``invalid_grant``: a refresh token that cannot be used (any more)."""

    kind = "invalid_grant"
    title = "The grant is invalid, expired or revoked"


class RefreshTokenReused(InvalidGrant):
    kind = "refresh_token_reused"
    title = "A refresh token was used twice: the whole session is revoked"


class InvalidClient(Unauthenticated):
    kind = "invalid_client"
    title = "Client authentication failed"


class InvalidScope(RuleViolation):
    kind = "invalid_scope"
    title = "The requested scope is not allowed for this client"


class PersonDeceasedError(Conflict):
    kind = "person_deceased"
    title = "The person is deceased"


class SerialsExhausted(Conflict):
    kind = "iin_serials_exhausted"
    title = "No IIN serial is left for this birth date and sex"


class AttemptsRateLimited(TooManyRequests):
    """Per-IIN limit of password logins, reset requests and code answers: the same answer
    whether or not the IIN is registered."""

    kind = "login_rate_limited"
    title = "Too many attempts for this IIN"


class SmsNotSent(UpstreamUnavailable):
    kind = "sms_not_sent"
    title = "The code could not be sent"

    def __init__(self, retry_after_s: int = 30) -> None:
        super().__init__(
            "the code could not be sent to your phone just now: try again in a minute",
            retry_after_s=retry_after_s,
        )
