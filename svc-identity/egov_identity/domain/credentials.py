"""Citizen login: the Credential (password + lockout), one-time codes and login challenges."""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from egov_identity.domain.errors import (
    AccountLocked,
    ChallengeInvalid,
    InvalidCredentials,
    OtpAlreadyUsed,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpInvalid,
)
from meshkit.auth.roles import OPERATOR_ROLES
from meshkit.errors import RuleViolation

Role = Literal["citizen", "operator"]
OtpPurpose = Literal["login", "password_setup", "centre_consent"]
LoginMethod = Literal["password", "otp", "signature"]

#: the one answer to a failed password login, whoever the IIN belongs to (or nobody), locked
#: or not: the same status, type and words, so the answer tells nothing about the account
LOGIN_FAILED = (
    "wrong IIN or password (repeated failures lock password login for a while; setting a new "
    "password with a code sent to the registered phone unlocks it)"
)


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_s: int = 900
    otp_ttl_s: int = 300
    otp_max_attempts: int = 3
    password_min_length: int = 8


@dataclass
class Credential:
    """How a person logs in: a password hash, a role, and the failure counter that locks."""

    iin: str
    role: Role = "citizen"
    password_hash: str | None = None
    failed_attempts: int = 0
    locked_until: datetime | None = None
    password_changed_at: datetime | None = None
    #: an operator's roles (``meshkit.auth.roles``): what its operator tokens allow
    roles: frozenset[str] = frozenset()

    def set_roles(self, roles: Iterable[str]) -> bool:
        """Make the person an operator with exactly these roles (none: a citizen again);
        True when something changed. Unknown roles are refused."""
        wanted = frozenset(roles)
        unknown = sorted(wanted - OPERATOR_ROLES.keys())
        if unknown:
            raise RuleViolation(
                f"unknown role {unknown[0]!r}",
                errors={"roles": "one of " + ", ".join(sorted(OPERATOR_ROLES))},
            )
        role: Role = "operator" if wanted else "citizen"
        changed = wanted != self.roles or role != self.role
        self.roles, self.role = wanted, role
        return changed

    def ensure_not_locked(self, now: datetime) -> None:
        if self.locked_until is not None and now < self.locked_until:
            raise AccountLocked(self.locked_until, now)

    def record_failure(self, policy: LoginPolicy, now: datetime) -> bool:
        """Count a wrong password or code; True when this failure locks the account."""
        if self.locked_until is not None and now >= self.locked_until:
            self.failed_attempts = 0  # the previous lock has run out: a fresh count
            self.locked_until = None
        self.failed_attempts += 1
        if self.failed_attempts >= policy.max_failures:
            self.locked_until = now + timedelta(seconds=policy.lockout_s)
            return True
        return False

    def record_success(self) -> None:
        self.failed_attempts = 0
        self.locked_until = None

    def check_password(self, password: str, hasher: PasswordHasher) -> bool:
        """CPU-heavy by design (argon2): the service layer runs it off the event loop."""
        return self.password_hash is not None and hasher.verify(self.password_hash, password)

    def set_password_hash(self, password_hash: str, now: datetime) -> None:
        """A new password (already checked by :func:`check_password_policy` and hashed)."""
        self.password_hash = password_hash
        self.password_changed_at = now
        self.record_success()


def check_password_policy(password: str, policy: LoginPolicy) -> None:
    if len(password) < policy.password_min_length:
        raise RuleViolation(
            f"the password must have at least {policy.password_min_length} characters",
            errors={"new_password": f"at least {policy.password_min_length} characters"},
        )
    if password.isdigit() or password.isalpha():
        raise RuleViolation(
            "the password must mix letters and digits or symbols",
            errors={"new_password": "mix letters and digits or symbols"},
        )


def authenticate_password(
    credential: Credential | None,
    password_ok: bool,
    policy: LoginPolicy,
    now: datetime,
) -> Credential:
    """The password step of a login. The caller persists the counter before re-raising."""
    if credential is None:
        raise InvalidCredentials(LOGIN_FAILED)
    credential.ensure_not_locked(now)
    if not password_ok:
        if credential.record_failure(policy, now):
            assert credential.locked_until is not None
            raise AccountLocked(credential.locked_until, now)
        # never how many attempts are left: that would tell a stranger the IIN is registered
        raise InvalidCredentials(LOGIN_FAILED)
    # the failure counter is reset only by a complete login (password and code), so wrong
    # codes accumulate across fresh challenges
    return credential


@dataclass(frozen=True)
class LoginAttempt:
    """One login step, kept for audit (who tried, how, with what outcome)."""

    iin: str
    method: LoginMethod
    succeeded: bool
    reason: str | None
    at: datetime


def new_otp_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(pepper: bytes, challenge_id: str, code: str) -> str:
    """Codes are stored keyed-hashed, bound to their challenge (no plain codes at rest)."""
    return hmac.new(pepper, f"{challenge_id}:{code}".encode(), "sha256").hexdigest()


@dataclass
class OtpChallenge:
    """A one-time code sent to the registered phone: expires, single use, attempts limited."""

    id: str
    iin: str
    purpose: OtpPurpose
    code_hash: str
    phone: str
    created_at: datetime
    expires_at: datetime
    max_attempts: int
    attempts: int = 0
    used_at: datetime | None = None
    actor: str | None = None  # centre consent: the operator who asked for the code

    @classmethod
    def issue(
        cls,
        iin: str,
        phone: str,
        purpose: OtpPurpose,
        pepper: bytes,
        policy: LoginPolicy,
        now: datetime,
    ) -> tuple[OtpChallenge, str]:
        challenge_id = str(uuid.uuid4())
        code = new_otp_code()
        challenge = cls(
            id=challenge_id,
            iin=iin,
            purpose=purpose,
            code_hash=hash_code(pepper, challenge_id, code),
            phone=phone,
            created_at=now,
            expires_at=now + timedelta(seconds=policy.otp_ttl_s),
            max_attempts=policy.otp_max_attempts,
        )
        return challenge, code

    @classmethod
    def decoy(
        cls, iin: str, purpose: OtpPurpose, policy: LoginPolicy, now: datetime
    ) -> OtpChallenge:
        """A challenge whose code was sent nowhere and that no code answers: what a reset
        request for an unknown IIN (or one without a phone) gets, so that the next step
        behaves exactly like a real challenge answered with a wrong code."""
        return cls(
            id=str(uuid.uuid4()),
            iin=iin,
            purpose=purpose,
            code_hash=secrets.token_hex(32),  # not the HMAC of any code
            phone="",
            created_at=now,
            expires_at=now + timedelta(seconds=policy.otp_ttl_s),
            max_attempts=policy.otp_max_attempts,
        )

    def answer(self, code: str, pepper: bytes, now: datetime) -> None:
        """Accept the right code once; raise (after counting the attempt) otherwise."""
        if self.used_at is not None:
            raise OtpAlreadyUsed("this code was already used: request a new one")
        if now >= self.expires_at:
            raise OtpExpired(
                f"the code expired at {self.expires_at.isoformat()}: request a new one"
            )
        if self.attempts >= self.max_attempts:
            raise OtpAttemptsExceeded("too many wrong codes for this challenge: log in again")
        self.attempts += 1
        if not hmac.compare_digest(self.code_hash, hash_code(pepper, self.id, code)):
            left = self.max_attempts - self.attempts
            if left <= 0:
                raise OtpAttemptsExceeded("too many wrong codes for this challenge: log in again")
            raise OtpInvalid(f"the code is wrong ({left} attempts left for this code)")
        self.used_at = now


def mask_phone(phone: str) -> str:
    return phone[:-7] + "*" * 5 + phone[-2:] if len(phone) > 7 else "*" * len(phone)


@dataclass
class SignatureChallenge:
    """A nonce the citizen signs with a certified key to log in without a password."""

    id: str
    nonce: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(cls, ttl_s: int, now: datetime) -> SignatureChallenge:
        return cls(
            id=str(uuid.uuid4()),
            nonce=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )

    def consume(self, nonce: str, now: datetime) -> None:
        if self.used_at is not None or now >= self.expires_at:
            raise ChallengeInvalid("the login challenge is expired or used: request a new one")
        if not hmac.compare_digest(self.nonce, nonce):
            raise ChallengeInvalid("the signed nonce is not the one of this challenge")
        self.used_at = now
