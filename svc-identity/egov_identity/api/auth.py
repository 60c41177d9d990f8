"""Citizen login (public): IIN + password then an SMS code, login by digital signature,
password setup by SMS code, refresh and logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from egov_identity.api.deps import IdentityDep
from egov_identity.api.oauth import bearer
from egov_identity.api.schemas import (
    CentreCitizenOut,
    CentreConsentAnswerIn,
    CentreConsentIn,
    CentreConsentOut,
    ChallengeOut,
    LoginIn,
    LogoutIn,
    OtpIn,
    PasswordChangeIn,
    PasswordIn,
    PasswordSetupIn,
    RefreshIn,
    ResetRequestedOut,
    SignatureAnswerIn,
    SignatureChallengeOut,
    TokenOut,
)
from egov_identity.domain.credentials import OtpChallenge, mask_phone
from egov_identity.service_layer import auth as uc
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/auth",
    tags=["citizen login"],
    responses={
        **PROBLEM_RESPONSES,
        429: PROBLEM_RESPONSES[422] | {"description": "Locked out / rate limited"},
        503: PROBLEM_RESPONSES[422]
        | {"description": "sms-not-sent: the SMS provider did not take the code; try again"},
    },
)


def challenge_out(ch: OtpChallenge, idy_now_s: float) -> ChallengeOut:
    return ChallengeOut(
        challenge_id=ch.id,
        expires_in=max(0, int(ch.expires_at.timestamp() - idy_now_s)),
        sent_to=mask_phone(ch.phone),
    )


@router.post(
    "/login",
    response_model=ChallengeOut,
    summary="Step 1: IIN + password; a one-time code goes to the registered phone",
)
async def login(body: LoginIn, idy: IdentityDep) -> ChallengeOut:
    challenge = await uc.start_password_login(idy.auth, body.iin, body.password, body.lang)
    return challenge_out(challenge, idy.clock.now().timestamp())


@router.post("/otp", response_model=TokenOut, summary="Step 2: the one-time code → tokens")
async def otp(body: OtpIn, idy: IdentityDep) -> TokenOut:
    return TokenOut.of(await uc.complete_otp_login(idy.auth, body.challenge_id, body.code))


@router.post(
    "/password/request",
    response_model=ResetRequestedOut,
    status_code=202,
    summary="Set or reset the password: a code goes to the registered phone",
    description="The same 202 answer for every IIN (registered or not, with a phone or "
    "not, locked or not): a challenge id and the code's lifetime, never the phone.",
)
async def password_request(body: PasswordSetupIn, idy: IdentityDep) -> ResetRequestedOut:
    challenge = await uc.request_password_setup(idy.auth, body.iin, body.lang)
    return ResetRequestedOut(
        challenge_id=challenge.id,
        expires_in=idy.auth.policy.otp_ttl_s,
        detail=uc.RESET_REQUESTED,
    )


@router.post("/password", status_code=204, summary="Set the password with the code")
async def password(body: PasswordIn, idy: IdentityDep) -> None:
    await uc.set_password(idy.auth, body.challenge_id, body.code, body.new_password)


@router.post(
    "/password/change",
    status_code=204,
    summary="Change the password (access token + current password); ends every session",
)
async def password_change(
    body: PasswordChangeIn,
    idy: IdentityDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    await uc.change_password(
        idy.auth, bearer(authorization), body.current_password, body.new_password
    )


@router.post(
    "/signature/challenge",
    response_model=SignatureChallengeOut,
    summary="Login by digital signature, step 1: a nonce to sign",
)
async def signature_challenge(idy: IdentityDep) -> SignatureChallengeOut:
    ch = await uc.start_signature_login(idy.auth)
    return SignatureChallengeOut(
        challenge_id=ch.id, nonce=ch.nonce, expires_in=idy.settings.signature_challenge_ttl_s
    )


@router.post(
    "/signature/answer",
    response_model=TokenOut,
    summary="Login by digital signature, step 2: the signed nonce (JWS with x5c) → tokens",
)
async def signature_answer(body: SignatureAnswerIn, idy: IdentityDep) -> TokenOut:
    return TokenOut.of(await uc.complete_signature_login(idy.auth, body.challenge_id, body.signed))


@router.post("/refresh", response_model=TokenOut, summary="Rotate a refresh token")
async def refresh(body: RefreshIn, idy: IdentityDep) -> TokenOut:
    return TokenOut.of(await uc.refresh(idy.auth, body.refresh_token))


@router.post("/logout", status_code=204, summary="End the session (access or refresh token)")
async def logout(
    idy: IdentityDep,
    body: LogoutIn | None = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    if body is not None and body.refresh_token:
        await uc.revoke_token(idy.auth, body.refresh_token)
        return
    claims = await idy.issuer.verify(bearer(authorization))
    await uc.revoke_session(idy.auth, str(claims["sid"]), "logout")


@router.post(
    "/centre/consent",
    response_model=ChallengeOut,
    summary="Public service centre, step 1: the operator asks for a citizen's consent",
    description="The operator's access token is the `actor_token` (kind `operator`); a code "
    "goes to the citizen's registered phone, saying who asks and why. 403 for anyone else.",
)
async def centre_consent(body: CentreConsentIn, idy: IdentityDep) -> ChallengeOut:
    challenge = await uc.start_centre_consent(idy.auth, body.actor_token, body.iin, body.lang)
    return challenge_out(challenge, idy.clock.now().timestamp())


@router.post(
    "/centre/consent/answer",
    response_model=CentreConsentOut,
    summary="Public service centre, step 2: the code the citizen told the operator",
    description="→ a short-lived token of the citizen (`sub` = IIN) naming the operator as "
    "actor (`act`: operator IIN and centre; RFC 8693), audience `egov-gateway/centre`: the "
    "gateway's centre endpoints accept it, and only from the same operator.",
)
async def centre_consent_answer(body: CentreConsentAnswerIn, idy: IdentityDep) -> CentreConsentOut:
    given = await uc.complete_centre_consent(
        idy.auth, body.actor_token, body.challenge_id, body.code
    )
    p = given.person
    return CentreConsentOut(
        consent_token=given.consent_token,
        expires_in=given.expires_in,
        consent_id=given.consent_id,
        operator=given.operator,
        centre=given.centre,
        citizen=CentreCitizenOut(
            iin=p.iin, surname=p.surname, given_name=p.given_name, patronymic=p.patronymic
        ),
    )
