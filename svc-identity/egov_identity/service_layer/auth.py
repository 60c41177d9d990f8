"""Use cases of login and tokens: password + SMS code, signature login, refresh-token rotation
with reuse detection, logout/revocation, agency client credentials, introspection."""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote

import jwt
from jwt import PyJWK

from egov_identity.domain.credentials import (
    LOGIN_FAILED,
    Credential,
    LoginAttempt,
    LoginMethod,
    LoginPolicy,
    OtpChallenge,
    OtpPurpose,
    PasswordHasher,
    SignatureChallenge,
    authenticate_password,
    check_password_policy,
)
from egov_identity.domain.errors import (
    AccountLocked,
    AttemptsRateLimited,
    ChallengeInvalid,
    InvalidClient,
    InvalidCredentials,
    InvalidGrant,
    OtpAttemptsExceeded,
    OtpInvalid,
    OtpRateLimited,
    RefreshTokenReused,
)
from egov_identity.domain.persons import Person
from egov_identity.domain.pki import CertificateAuthority, check_chain, serial_hex
from egov_identity.domain.ratelimit import KeyedTokenBucket
from egov_identity.domain.tokens import OAuthClient, PrincipalKind, RefreshTokenFamily, token_digest
from egov_identity.service_layer.issuer import TokenIssuer
from egov_identity.service_layer.revocation import (
    announce,
    revoke_every_session,
    revoke_family,
)
from egov_identity.service_layer.sms import SmsSender, deliver_now
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from egov_identity.settings import IdentitySettings
from meshkit.auth.roles import CENTRE_OPERATOR
from meshkit.clock import Clock
from meshkit.contracts.identity import SessionRevocationReason
from meshkit.documents import cert_from_b64, subject_serial_number, verify_document
from meshkit.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    Unauthenticated,
)
from meshkit.messaging.uow import UnitOfWork

CITIZEN_SCOPE = "openid profile citizen"
OPERATOR_SCOPE = "openid profile operator persons:read persons:search"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# a dummy argon2 verification for unknown IINs, so timing does not reveal who has an account
_DUMMY_HASH_PASSWORD = "not-a-password-0"


class AttemptLimits:
    """Per-IIN token buckets, one per kind of attempt: password logins, password reset
    requests, one-time code answers (login and reset). Keyed by the IIN as typed, so an
    unknown IIN is limited exactly like a registered one."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.login = KeyedTokenBucket(settings.login_rate_per_minute, settings.login_rate_burst)
        self.recovery = KeyedTokenBucket(settings.login_rate_per_minute, settings.login_rate_burst)
        self.otp = KeyedTokenBucket(settings.otp_rate_per_minute, settings.otp_rate_burst)

    @staticmethod
    def check(bucket: KeyedTokenBucket, iin: str, now: datetime) -> None:
        wait = bucket.take(iin, now.timestamp())
        if wait:
            raise AttemptsRateLimited(
                f"too many attempts for this IIN: try again in {wait} s", retry_after_s=wait
            )


@dataclass
class AuthContext:
    settings: IdentitySettings
    issuer: TokenIssuer
    hasher: PasswordHasher
    pepper: bytes
    policy: LoginPolicy
    clock: Clock
    ca: CertificateAuthority
    uow: Callable[[], UnitOfWork]
    dummy_hash: str = ""
    limits: AttemptLimits | None = None
    #: who delivers the codes a person waits for (None: they stay in the outbox)
    sms: SmsSender | None = None

    def __post_init__(self) -> None:
        if self.limits is None:
            self.limits = AttemptLimits(self.settings)

    @property
    def attempt_limits(self) -> AttemptLimits:
        assert self.limits is not None
        return self.limits

    def new_uow(self) -> IdentityUnitOfWork:
        uow = self.uow()
        assert isinstance(uow, IdentityUnitOfWork)
        return uow


@dataclass
class TokenSet:
    access_token: str
    expires_in: int
    scope: str
    kind: str
    refresh_token: str | None = None
    token_type: str = "Bearer"
    session_id: str | None = None


Lang = Literal["kk", "ru", "en"]

_OTP_TEXTS: dict[str, dict[str, str]] = {
    "login": {
        "kk": "egov-mesh: кіру коды {code}. Кодты ешкімге айтпаңыз.",
        "ru": "egov-mesh: код для входа {code}. Никому не сообщайте код.",
        "en": "egov-mesh: your sign-in code is {code}. Do not share it with anyone.",
    },
    "password_setup": {
        "kk": "egov-mesh: құпиясөз орнату коды {code}. Кодты ешкімге айтпаңыз.",
        "ru": "egov-mesh: код для установки пароля {code}. Никому не сообщайте код.",
        "en": "egov-mesh: your password setup code is {code}. Do not share it with anyone.",
    },
    "centre_consent": {
        "kk": "egov-mesh: ХҚКО операторы сіздің атыңыздан өтініш беруге келісім сұрайды. "
        "Келіссеңіз, операторға кодты айтыңыз: {code}. Әйтпесе ешкімге айтпаңыз.",
        "ru": "egov-mesh: оператор ЦОН просит согласия подать заявление от вашего имени. "
        "Если согласны, назовите оператору код {code}. Иначе никому его не сообщайте.",
        "en": "egov-mesh: a public service centre operator asks your consent to apply on "
        "your behalf. If you agree, tell the operator the code {code}; otherwise share it "
        "with no one.",
    },
}


def otp_text(code: str, purpose: str, lang: str | None = None) -> str:
    """The text of a code in the person's language (Kazakh and Russian when unknown)."""
    texts = _OTP_TEXTS.get(purpose, _OTP_TEXTS["login"])
    if lang in texts:
        return texts[lang].format(code=code)
    kk, ru = texts["kk"].format(code=code), texts["ru"].format(code=code)
    return f"{kk} / {ru.removeprefix('egov-mesh: ')}"


async def _record(
    uow: IdentityUnitOfWork,
    iin: str,
    method: LoginMethod,
    ok: bool,
    reason: str | None,
    now: datetime,
) -> None:
    await uow.credentials.record_attempt(
        LoginAttempt(iin=iin, method=method, succeeded=ok, reason=reason, at=now)
    )


async def _send_code(
    ctx: AuthContext,
    uow: IdentityUnitOfWork,
    person: Person,
    purpose: OtpPurpose,
    now: datetime,
    *,
    lang: str | None = None,
    actor: str | None = None,
) -> tuple[OtpChallenge, int]:
    if not person.phone:
        raise RuleViolation(
            "no phone is registered for this person: update it at a public service centre",
            errors={"iin": "no registered phone"},
        )
    window = now - timedelta(seconds=ctx.settings.otp_window_s)
    if await uow.credentials.otps_sent_since(person.iin, window) >= ctx.settings.otp_max_per_window:
        raise OtpRateLimited(
            "too many codes were sent to this phone recently: try again later",
            retry_after_s=ctx.settings.otp_window_s,
        )
    challenge, code = OtpChallenge.issue(
        person.iin,
        person.phone,
        purpose,
        ctx.pepper,
        ctx.policy,
        now,
    )
    challenge.actor = actor
    await uow.credentials.add_otp(challenge)
    sms_id = await uow.sms.add(person.phone, otp_text(code, purpose, lang), purpose, now)
    return challenge, sms_id


async def _deliver(ctx: AuthContext, sms_id: int) -> None:
    """After the commit: the code the person waits for goes out now (SmsNotSent if not)."""
    if ctx.sms is not None:
        await deliver_now(ctx.uow, ctx.sms, sms_id, ctx.clock)


# -- password + one-time code ------------------------------------------------------------------
def _locked(credential: Credential, now: datetime) -> bool:
    return credential.locked_until is not None and now < credential.locked_until


async def _on_lock(ctx: AuthContext, uow: IdentityUnitOfWork, iin: str, now: datetime) -> None:
    """The failure that locked password login: every session ends too (unless configured
    otherwise), announced to the gateway in the same transaction."""
    if ctx.settings.lock_revokes_sessions:
        await revoke_every_session(uow, iin, "account_locked", "account locked", now)


async def start_password_login(
    ctx: AuthContext, iin: str, password: str, lang: str | None = None
) -> OtpChallenge:
    """Every failure — unknown IIN, wrong password, locked account, deceased person —
    answers the same :data:`LOGIN_FAILED` 401 after the same argon2 work."""
    now = ctx.clock.now()
    ctx.attempt_limits.check(ctx.attempt_limits.login, iin, now)
    uow = ctx.new_uow()
    async with uow:  # a short read: argon2 runs outside any transaction
        credential = await uow.credentials.get(iin)
        person = await uow.persons.get(iin) if credential else None
    if credential is None or credential.password_hash is None or person is None:
        await asyncio.to_thread(ctx.hasher.verify, ctx.dummy_hash, password)
        raise InvalidCredentials(LOGIN_FAILED)
    # the password is checked even while locked: a lock must not answer faster
    ok = await asyncio.to_thread(credential.check_password, password, ctx.hasher)
    new_hash = None
    if ok and ctx.hasher.needs_rehash(credential.password_hash):
        new_hash = await asyncio.to_thread(ctx.hasher.hash, password)
    uow = ctx.new_uow()
    async with uow:
        credential = await uow.credentials.get(iin, for_update=True)
        assert credential is not None
        was_locked = _locked(credential, now)
        try:
            authenticate_password(credential, ok, ctx.policy, now)
        except (InvalidCredentials, AccountLocked) as exc:
            await uow.credentials.save(credential)
            await _record(uow, iin, "password", False, exc.code, now)
            if isinstance(exc, AccountLocked) and not was_locked:
                await _on_lock(ctx, uow, iin, now)
            await uow.commit()
            raise InvalidCredentials(LOGIN_FAILED) from None
        if person.is_deceased:
            raise InvalidCredentials(LOGIN_FAILED)
        if new_hash is not None:
            credential.password_hash = new_hash
        challenge, sms_id = await _send_code(ctx, uow, person, "login", now, lang=lang)
        await uow.credentials.save(credential)
        await _record(uow, iin, "password", True, None, now)
        await uow.commit()
    await _deliver(ctx, sms_id)
    return challenge


async def _answer_code(
    ctx: AuthContext,
    uow: IdentityUnitOfWork,
    challenge_id: str,
    code: str,
    purpose: str,
    now: datetime,
) -> tuple[OtpChallenge, Credential]:
    """Check a code inside an open unit of work; wrong login codes count toward the
    lockout and are committed before the error is raised.

    Codes of a password reset neither count toward nor stop at the lockout: a stranger who
    locked password login with wrong passwords must not lock the owner out of recovery by
    the phone (each reset code still takes only ``OTP_MAX_ATTEMPTS`` guesses, and codes
    per IIN are limited)."""
    challenge = await uow.credentials.get_otp(challenge_id)
    if challenge is None or challenge.purpose != purpose:
        raise ChallengeInvalid("unknown challenge: log in again")
    ctx.attempt_limits.check(ctx.attempt_limits.otp, challenge.iin, now)
    counts = purpose == "login"
    credential = await uow.credentials.get(challenge.iin, for_update=True)
    if credential is None:
        credential = Credential(iin=challenge.iin)
        if counts:
            await uow.credentials.add(credential)
    if counts:
        credential.ensure_not_locked(now)
    attempts_before = challenge.attempts
    try:
        challenge.answer(code, ctx.pepper, now)
    except DomainError as exc:
        if challenge.attempts > attempts_before:  # a real guess was compared
            await uow.credentials.save_otp(challenge)
            await _record(uow, challenge.iin, "otp", False, exc.code, now)
            if not counts:
                await uow.commit()
                raise
            locked = credential.record_failure(ctx.policy, now)
            await uow.credentials.save(credential)
            if locked:
                await _on_lock(ctx, uow, challenge.iin, now)
            await uow.commit()
            if locked:
                assert credential.locked_until is not None
                raise AccountLocked(credential.locked_until, now) from None
            if isinstance(exc, OtpInvalid | OtpAttemptsExceeded):
                left = ctx.policy.max_failures - credential.failed_attempts
                exc.detail += f"; {left} failed attempts left before the account locks"
        raise
    await uow.credentials.save_otp(challenge)
    return challenge, credential


async def complete_otp_login(ctx: AuthContext, challenge_id: str, code: str) -> TokenSet:
    await ctx.issuer.reload()
    now = ctx.clock.now()
    uow = ctx.new_uow()
    async with uow:
        challenge, credential = await _answer_code(ctx, uow, challenge_id, code, "login", now)
        credential.record_success()
        await uow.credentials.save(credential)
        await _record(uow, challenge.iin, "otp", True, None, now)
        tokens = await _start_session(ctx, uow, credential, ["pwd", "otp"], now)
        await uow.commit()
    return tokens


async def _start_session(
    ctx: AuthContext, uow: IdentityUnitOfWork, credential: Credential, amr: list[str], now: datetime
) -> TokenSet:
    kind: PrincipalKind = "operator" if credential.role == "operator" else "citizen"
    scope = OPERATOR_SCOPE if kind == "operator" else CITIZEN_SCOPE
    family = RefreshTokenFamily.start(
        subject=credential.iin,
        kind=kind,
        scope=scope,
        amr=amr,
        ttl_s=ctx.settings.refresh_token_ttl_s,
        now=now,
    )
    await uow.tokens.add_family(family)
    return await _mint(ctx, uow, family, now)


async def _mint(
    ctx: AuthContext, uow: IdentityUnitOfWork, family: RefreshTokenFamily, now: datetime
) -> TokenSet:
    token, raw = family.mint(now)
    await uow.tokens.add_token(token)
    await uow.tokens.save_family(family)
    extra: dict[str, Any] = {"amr": family.amr}
    if family.kind == "operator":
        # the roles the credential holds now (a refresh after a change carries the new ones;
        # a change of roles also ends the operator's sessions: operators.set_roles)
        credential = await uow.credentials.get(family.subject)
        held = credential.roles if credential and credential.role == "operator" else ()
        extra["roles"] = sorted(held)
    access, ttl = await ctx.issuer.access_token(
        subject=family.subject,
        kind=family.kind,
        scope=family.scope,
        session_id=family.id,
        extra=extra,
    )
    return TokenSet(
        access_token=access,
        expires_in=ttl,
        scope=family.scope,
        kind=family.kind,
        refresh_token=raw,
        session_id=family.id,
    )


# -- password setup by SMS code ---------------------------------------------------------------
#: the one answer to a reset request, whoever the IIN belongs to (or nobody)
RESET_REQUESTED = "if this IIN is registered with a phone, a code was sent to it"


async def request_password_setup(
    ctx: AuthContext, iin: str, lang: str | None = None
) -> OtpChallenge:
    """Send a reset code to the registered phone — or, for an unknown or deceased person,
    a person without a phone, or when too many codes went to the IIN lately, store a decoy
    challenge no code answers. Either way the caller gets a challenge id and the same
    answer; nothing here depends on the lockout (recovery works while locked)."""
    now = ctx.clock.now()
    ctx.attempt_limits.check(ctx.attempt_limits.recovery, iin, now)
    uow = ctx.new_uow()
    async with uow:
        person = await uow.persons.get(iin)
        challenge: OtpChallenge | None = None
        if person is not None and not person.is_deceased and person.phone:
            try:
                # queued, not delivered here: the answer must not depend on the phone
                challenge, _ = await _send_code(ctx, uow, person, "password_setup", now, lang=lang)
            except OtpRateLimited:
                challenge = None
        if challenge is None:
            challenge = OtpChallenge.decoy(iin, "password_setup", ctx.policy, now)
            await uow.credentials.add_otp(challenge)
        await uow.commit()
    return challenge


async def set_password(ctx: AuthContext, challenge_id: str, code: str, new_password: str) -> None:
    """A new password by a code sent to the registered phone: works while password login
    is locked, unlocks it, and ends every session of the person (announced)."""
    check_password_policy(new_password, ctx.policy)
    password_hash = await asyncio.to_thread(ctx.hasher.hash, new_password)
    now = ctx.clock.now()
    uow = ctx.new_uow()
    async with uow:
        challenge, credential = await _answer_code(
            ctx, uow, challenge_id, code, "password_setup", now
        )
        is_new = await uow.credentials.get(challenge.iin) is None
        credential.set_password_hash(password_hash, now)  # also clears the lock
        if is_new:
            await uow.credentials.add(credential)
        else:
            await uow.credentials.save(credential)
        # a new password ends every existing session of the person
        await revoke_every_session(uow, challenge.iin, "password_reset", "password reset", now)
        await uow.commit()


async def change_password(
    ctx: AuthContext, access_token: str, current_password: str, new_password: str
) -> None:
    """A signed-in person changes the password: the access token must be of a live
    session and the current password right (a wrong one counts toward the lockout, like a
    wrong login). Every session ends, the current one included (announced)."""
    claims = await introspect(ctx, access_token)
    if not claims.get("active") or claims.get("kind") not in ("citizen", "operator"):
        raise Unauthenticated("a citizen's access token of a live session is required")
    iin = str(claims["sub"])
    now = ctx.clock.now()
    ctx.attempt_limits.check(ctx.attempt_limits.login, iin, now)
    check_password_policy(new_password, ctx.policy)
    uow = ctx.new_uow()
    async with uow:
        credential = await uow.credentials.get(iin)
    hashed = credential.password_hash if credential else None
    ok = await asyncio.to_thread(ctx.hasher.verify, hashed or ctx.dummy_hash, current_password)
    ok = ok and hashed is not None
    password_hash = await asyncio.to_thread(ctx.hasher.hash, new_password) if ok else None
    uow = ctx.new_uow()
    async with uow:
        credential = await uow.credentials.get(iin, for_update=True)
        if credential is None:
            raise InvalidCredentials("the current password is wrong")
        credential.ensure_not_locked(now)
        if password_hash is None:
            locked = credential.record_failure(ctx.policy, now)
            await uow.credentials.save(credential)
            await _record(uow, iin, "password", False, "password_change_refused", now)
            if locked:
                await _on_lock(ctx, uow, iin, now)
            await uow.commit()
            raise InvalidCredentials("the current password is wrong")
        credential.set_password_hash(password_hash, now)
        await uow.credentials.save(credential)
        await revoke_every_session(uow, iin, "password_changed", "password changed", now)
        await uow.commit()


# -- consent at a public service centre ---------------------------------------------------------
#: the audience of a citizen's consent token: only the gateway's centre endpoints accept it
CENTRE_AUDIENCE = "egov-gateway/centre"
CENTRE_SCOPE = "centre:apply"


@dataclass
class CentreConsent:
    """What an operator gets when the citizen told them the code."""

    consent_token: str
    expires_in: int
    consent_id: str
    iin: str
    person: Person
    operator: str
    centre: str


async def _operator_of(ctx: AuthContext, actor_token: str) -> str:
    claims = await introspect(ctx, actor_token)
    if not claims.get("active"):
        raise Unauthenticated("sign in again: the operator's session has ended")
    roles = claims.get("roles")
    if claims.get("kind") != "operator" or not (
        isinstance(roles, list) and CENTRE_OPERATOR in roles
    ):
        raise PermissionDenied(
            "only an operator of a public service centre (role centre-operator) may ask for this"
        )
    return str(claims["sub"])


async def start_centre_consent(
    ctx: AuthContext, actor_token: str, iin: str, lang: str | None = None
) -> OtpChallenge:
    """An operator asks for a citizen's consent: a code goes to the citizen's phone."""
    operator = await _operator_of(ctx, actor_token)
    now = ctx.clock.now()
    ctx.attempt_limits.check(ctx.attempt_limits.recovery, iin, now)
    uow = ctx.new_uow()
    async with uow:
        person = await uow.persons.get(iin)
        if person is None or person.is_deceased:
            raise NotFound("no living person with this IIN in the state database")
        challenge, sms_id = await _send_code(
            ctx, uow, person, "centre_consent", now, lang=lang, actor=operator
        )
        await uow.commit()
    await _deliver(ctx, sms_id)
    return challenge


async def complete_centre_consent(
    ctx: AuthContext, actor_token: str, challenge_id: str, code: str
) -> CentreConsent:
    """The code the citizen told the operator → a short-lived token of the citizen that names
    the operator as the actor (RFC 8693 ``act``), for the gateway's centre endpoints only."""
    operator = await _operator_of(ctx, actor_token)
    await ctx.issuer.reload()
    now = ctx.clock.now()
    uow = ctx.new_uow()
    async with uow:
        found = await uow.credentials.get_otp(challenge_id)
        if found is None or found.purpose != "centre_consent" or found.actor != operator:
            raise ChallengeInvalid("unknown consent request: ask the citizen for a new code")
        challenge, _ = await _answer_code(ctx, uow, challenge_id, code, "centre_consent", now)
        person = await uow.persons.get(challenge.iin)
        if person is None:
            raise ChallengeInvalid("unknown consent request: ask the citizen for a new code")
        await uow.commit()
    centre = ctx.settings.centre_of(operator)
    consent_id = str(uuid.uuid4())
    token, ttl = await ctx.issuer.consent_token(
        subject=challenge.iin,
        actor={"sub": operator, "kind": "operator", "centre": centre},
        audience=CENTRE_AUDIENCE,
        scope=CENTRE_SCOPE,
        consent_id=consent_id,
        ttl_s=ctx.settings.centre_consent_ttl_s,
    )
    return CentreConsent(token, ttl, consent_id, challenge.iin, person, operator, centre)


# -- login by digital signature ------------------------------------------------------------------
async def start_signature_login(ctx: AuthContext) -> SignatureChallenge:
    challenge = SignatureChallenge.issue(ctx.settings.signature_challenge_ttl_s, ctx.clock.now())
    uow = ctx.new_uow()
    async with uow:
        await uow.credentials.add_signature_challenge(challenge)
        await uow.commit()
    return challenge


async def complete_signature_login(ctx: AuthContext, challenge_id: str, signed: str) -> TokenSet:
    """The citizen signed ``{"nonce": ...}`` as a JWS carrying their certificate (x5c)."""
    await ctx.issuer.reload()
    now = ctx.clock.now()
    doc = await verify_document(signed, roots=[ctx.ca.certificate], now=now)
    if not doc.valid or doc.payload is None:
        raise ChallengeInvalid(f"the signature is not acceptable: {doc.reason}")
    header = jwt.get_unverified_header(signed)
    chain = [cert_from_b64(c) for c in header["x5c"]]
    problem = check_chain(chain, ctx.ca.certificate, now)  # valid now, whatever iat says
    if problem:
        raise ChallengeInvalid(f"the certificate is not acceptable: {problem}")
    leaf = chain[0]
    uow = ctx.new_uow()
    async with uow:
        challenge = await uow.credentials.get_signature_challenge(challenge_id)
        if challenge is None:
            raise ChallengeInvalid("unknown challenge: request a new one")
        cert = await uow.certificates.get(serial_hex(leaf.serial_number))
        if cert is None or cert.status != "good":
            raise ChallengeInvalid("the certificate is unknown to the national CA or revoked")
        if cert.usage != "authentication":
            raise ChallengeInvalid("log in with an authentication certificate, not a signing one")
        iin = subject_serial_number(leaf)
        if cert.holder_kind != "citizen" or iin != cert.holder:
            raise ChallengeInvalid("the certificate does not name a citizen")
        challenge.consume(str(doc.payload.get("nonce", "")), now)
        await uow.credentials.save_signature_challenge(challenge)
        person = await uow.persons.get(cert.holder)
        if person is None or person.is_deceased:
            raise ChallengeInvalid("no living person holds this certificate")
        credential = await uow.credentials.get(person.iin) or Credential(iin=person.iin)
        # no lockout check: the lock stops password guessing, and a stranger who locked
        # password login must not keep the owner of a certified key out
        await _record(uow, person.iin, "signature", True, None, now)
        tokens = await _start_session(ctx, uow, credential, ["x509"], now)
        await uow.commit()
    return tokens


# -- refresh, logout, revocation -----------------------------------------------------------------
async def refresh(ctx: AuthContext, raw: str) -> TokenSet:
    await ctx.issuer.reload()
    now = ctx.clock.now()
    uow = ctx.new_uow()
    async with uow:
        token = await uow.tokens.get_token(token_digest(raw))
        if token is None:
            raise InvalidGrant("unknown refresh token")
        family = await uow.tokens.get_family(token.family_id, for_update=True)
        if family is None:
            raise InvalidGrant("unknown session")
        try:
            family.exchange(token, now)
            if not await uow.tokens.mark_used(token):  # a concurrent exchange won the race
                family.revoke("refresh token reuse detected", now)
                raise RefreshTokenReused(
                    "this refresh token was already used: the session is revoked, log in again"
                )
        except RefreshTokenReused:
            await uow.tokens.save_family(family)
            if family.revoked_at == now:  # revoked by this reuse, not before
                announce(uow, family.subject, "refresh_token_reused", now, session_id=family.id)
            await uow.commit()
            raise
        tokens = await _mint(ctx, uow, family, now)
        await uow.commit()
    return tokens


async def revoke_session(
    ctx: AuthContext,
    session_id: str,
    label: str,
    reason: SessionRevocationReason = "logout",
) -> bool:
    """End one session and announce it (``session.revoked`` with its id); False when it
    was unknown or already revoked (then nothing is written)."""
    now = ctx.clock.now()
    uow = ctx.new_uow()
    async with uow:
        family = await uow.tokens.get_family(session_id, for_update=True)
        if family is None or not await revoke_family(uow, family, reason, label, now):
            return False
        await uow.commit()
    return True


async def revoke_sessions_of(ctx: AuthContext, iin: str, session_id: str | None = None) -> int:
    """An operator ends one session of a person, or all of them; always announced."""
    now = ctx.clock.now()
    uow = ctx.new_uow()
    async with uow:
        if session_id is None:
            count = await revoke_every_session(uow, iin, "operator", "revoked by an operator", now)
        else:
            family = await uow.tokens.get_family(session_id, for_update=True)
            if family is None or family.subject != iin:
                raise NotFound(f"no session {session_id} of this person")
            count = int(await revoke_family(uow, family, "operator", "revoked by an operator", now))
        await uow.commit()
    return count


async def revoke_token(ctx: AuthContext, token: str) -> None:
    """RFC 7009: revoke the session a refresh or access token belongs to; unknown → no-op."""
    if token.count(".") == 2:
        try:
            claims = await ctx.issuer.verify(token)
        except DomainError:
            return
        await revoke_session(ctx, str(claims["sid"]), "revoked by the holder")
        return
    uow = ctx.new_uow()
    async with uow:
        found = await uow.tokens.get_token(token_digest(token))
    if found is not None:
        await revoke_session(ctx, found.family_id, "revoked by the holder")


async def introspect(ctx: AuthContext, token: str) -> dict[str, Any]:
    """RFC 7662: is this access token active (signature, expiry, session not revoked)?"""
    try:
        claims = await ctx.issuer.verify(token)
    except DomainError:
        return {"active": False}
    sid = str(claims.get("sid", ""))
    if not sid.startswith("cc-"):
        uow = ctx.new_uow()
        async with uow:
            family = await uow.tokens.get_family(sid)
        if family is None or not family.is_active(ctx.clock.now()):
            return {"active": False}
    return {"active": True, **claims, "token_type": "Bearer"}


# -- agency clients --------------------------------------------------------------------------------
@dataclass
class ClientAuth:
    """What the token endpoint received to authenticate a client."""

    authorization: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    client_assertion_type: str | None = None
    client_assertion: str | None = None


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic authorization") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("malformed Basic authorization")
    return unquote(client_id), unquote(secret)


async def authenticate_client(ctx: AuthContext, auth: ClientAuth) -> OAuthClient:
    uow = ctx.new_uow()
    basic = _basic(auth.authorization) if auth.authorization else None
    if basic is not None or auth.client_secret is not None:
        client_id, secret = basic or (auth.client_id or "", auth.client_secret or "")
        async with uow:
            client = await uow.tokens.get_client(client_id)
        if client is None:
            raise InvalidClient("client authentication failed")
        client.check_secret(secret)
        return client
    if auth.client_assertion is not None:
        if auth.client_assertion_type != CLIENT_ASSERTION_TYPE:
            raise InvalidClient(f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
        return await _private_key_jwt(ctx, uow, auth.client_assertion, auth.client_id)
    raise InvalidClient(
        "authenticate the client: client_secret_basic, client_secret_post or private_key_jwt"
    )


async def _private_key_jwt(
    ctx: AuthContext, uow: IdentityUnitOfWork, assertion: str, client_id: str | None
) -> OAuthClient:
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise InvalidClient("malformed client assertion") from None
    issuer = str(unverified.get("iss", ""))
    if client_id and client_id != issuer:
        raise InvalidClient("client_id does not match the assertion issuer")
    async with uow:
        client = await uow.tokens.get_client(issuer)
    if client is None or not client.active or not client.jwks:
        raise InvalidClient("client authentication failed")
    keys = [k for k in client.jwks.get("keys", []) if k.get("kid") == header.get("kid")] or (
        client.jwks.get("keys", []) if not header.get("kid") else []
    )
    if not keys or header.get("alg") not in ("ES256", "EdDSA", "RS256", "PS256"):
        raise InvalidClient("no registered key of the client matches the assertion")
    token_endpoint = f"{ctx.issuer.issuer}/oauth/token"
    try:
        claims = jwt.decode(
            assertion,
            key=PyJWK(keys[0]).key,
            algorithms=[header["alg"]],
            audience=[token_endpoint, ctx.issuer.issuer],
            issuer=client.client_id,
            options={"require": ["exp", "iss", "sub", "aud", "jti"]},
            leeway=30,
        )
    except jwt.PyJWTError as exc:
        raise InvalidClient(f"client assertion rejected: {exc}") from None
    if claims["sub"] != client.client_id:
        raise InvalidClient("the assertion subject must be the client id")
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    now = ctx.clock.now()
    if expires - now > timedelta(minutes=10):
        raise InvalidClient("client assertions must expire within 10 minutes")
    uow = ctx.new_uow()
    async with uow:
        if not await uow.tokens.use_assertion_jti(
            client.client_id, str(claims["jti"]), expires, now
        ):
            raise InvalidClient("this client assertion was already used (replay)")
        await uow.commit()
    return client


async def client_credentials(ctx: AuthContext, auth: ClientAuth, scope: str | None) -> TokenSet:
    client = await authenticate_client(ctx, auth)
    granted = client.grant_scope(scope)
    await ctx.issuer.reload()
    access, ttl = await ctx.issuer.access_token(
        subject=client.agency_code,
        kind=client.kind,
        scope=granted,
        session_id=f"cc-{uuid.uuid4()}",
        extra={"client_id": client.client_id, "agency": client.agency_code},
    )
    return TokenSet(access_token=access, expires_in=ttl, scope=granted, kind=client.kind)
