"""Request and response shapes of svc-identity's own endpoints (the ones others rely on are
in ``meshkit.contracts.identity``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from egov_identity.domain.consents import Consent
from egov_identity.domain.persons import Person
from egov_identity.domain.pki import RevocationReason
from egov_identity.service_layer.auth import TokenSet
from meshkit.contracts.identity import ConsentCategory, PersonOut, PersonSummary
from meshkit.ids import IIN


def person_out(p: Person) -> PersonOut:
    return PersonOut(
        iin=p.iin,
        surname=p.surname,
        given_name=p.given_name,
        patronymic=p.patronymic,
        birth_date=p.birth_date,
        sex=p.sex,
        citizenship=p.citizenship,
        address=p.address,
        phone=p.phone,
        status=p.status,
        date_of_death=p.date_of_death,
        mother_iin=p.mother_iin,
        father_iin=p.father_iin,
        children_iins=p.children_iins,
    )


def person_summary(p: Person) -> PersonSummary:
    return PersonSummary(
        iin=p.iin,
        surname=p.surname,
        given_name=p.given_name,
        patronymic=p.patronymic,
        birth_date=p.birth_date,
        sex=p.sex,
        status=p.status,
    )


class DeathIn(BaseModel):
    date_of_death: date
    act_number: str | None = Field(default=None, max_length=64)


class DataHolder(BaseModel):
    agency: str
    categories: list[str]
    basis: Literal["law", "received", "consent"]
    detail: str | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    times: int | None = None
    last_purpose: str | None = None
    consent_id: str | None = None
    until: datetime | None = None


class DataHoldersOut(BaseModel):
    iin: str
    holders: list[DataHolder]


# -- consents ---------------------------------------------------------------------------------
class ConsentIn(BaseModel):
    agency: str = Field(min_length=2, max_length=64, examples=["payments"])
    categories: list[ConsentCategory] = Field(min_length=1, examples=[["personal", "contacts"]])
    purpose: str = Field(
        min_length=3, max_length=300, examples=["бала туғанда берілетін жәрдемақы"]
    )
    expires_at: datetime


class ConsentOut(BaseModel):
    id: str
    iin: str
    agency: str
    categories: list[str]
    purpose: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    active: bool

    @classmethod
    def of(cls, c: Consent, now: datetime) -> ConsentOut:
        return cls(
            id=c.id,
            iin=c.iin,
            agency=c.agency,
            categories=list(c.categories),
            purpose=c.purpose,
            granted_at=c.granted_at,
            expires_at=c.expires_at,
            revoked_at=c.revoked_at,
            active=c.is_active(now),
        )


# -- CA ---------------------------------------------------------------------------------------
class RevokeIn(BaseModel):
    reason: RevocationReason = "unspecified"
    compromised_at: datetime | None = Field(
        default=None, description="key_compromise: since when signatures are not to be trusted"
    )


# -- login ------------------------------------------------------------------------------------
Lang = Literal["kk", "ru", "en"]
LANG_FIELD = Field(
    default=None, description="the language of the SMS (kk, ru, en); Kazakh and Russian if none"
)


class LoginIn(BaseModel):
    iin: IIN
    password: str = Field(min_length=1, max_length=200)
    lang: Lang | None = LANG_FIELD


class ChallengeOut(BaseModel):
    challenge_id: str
    expires_in: int
    sent_to: str = Field(description="the masked phone number the code went to")


class ResetRequestedOut(BaseModel):
    """``POST /auth/password/request``: the same answer for every IIN (registered or not,
    with a phone or not), so it tells nobody whether the IIN has an account."""

    challenge_id: str = Field(description="answer it with the code at POST /auth/password")
    expires_in: int
    detail: str = Field(examples=["if this IIN is registered with a phone, a code was sent to it"])


class SessionRevokeIn(BaseModel):
    """``POST /admin/persons/{iin}/sessions/revoke``: one session, or every one (null)."""

    session_id: str | None = Field(default=None, max_length=64)


class SessionRevokeOut(BaseModel):
    iin: str
    session_id: str | None
    revoked: int = Field(description="sessions that were active and are now revoked")


class OtpIn(BaseModel):
    challenge_id: str = Field(min_length=1, max_length=64)
    code: str = Field(pattern=r"^[0-9]{6}$")


class PasswordSetupIn(BaseModel):
    iin: IIN
    lang: Lang | None = LANG_FIELD


class PasswordIn(BaseModel):
    challenge_id: str = Field(min_length=1, max_length=64)
    code: str = Field(pattern=r"^[0-9]{6}$")
    new_password: str = Field(min_length=1, max_length=200)


class PasswordChangeIn(BaseModel):
    """``POST /auth/password/change`` (with the access token): the current password and
    the new one."""

    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class SignatureChallengeOut(BaseModel):
    challenge_id: str
    nonce: str = Field(description='sign {"nonce": <this>} as a JWS with your certificate (x5c)')
    expires_in: int


class SignatureAnswerIn(BaseModel):
    challenge_id: str = Field(min_length=1, max_length=64)
    signed: str = Field(min_length=1, max_length=50000, description="compact JWS with x5c")


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutIn(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str
    refresh_token: str | None = None

    @classmethod
    def of(cls, t: TokenSet) -> TokenOut:
        return cls(
            access_token=t.access_token,
            token_type=t.token_type,
            expires_in=t.expires_in,
            scope=t.scope,
            refresh_token=t.refresh_token,
        )


class SmsOut(BaseModel):
    id: int
    phone: str
    text: str
    purpose: str
    created_at: datetime
    sent_at: datetime | None = None
    code: str | None = Field(default=None, description="the 6-digit code in the text")


class ChallengeCodeOut(BaseModel):
    """Dev mode: the code one challenge sent (what the portal's development banner shows)."""

    challenge_id: str
    sent_to: str = Field(description="the masked phone number")
    purpose: str
    code: str
    created_at: datetime


# -- public service centres -----------------------------------------------------------------
class CentreConsentIn(BaseModel):
    """An operator asks for a citizen's consent (RFC 8693 style: the operator's own access
    token is the ``actor_token``; the gateway does not forward Authorization headers)."""

    iin: IIN
    actor_token: str = Field(min_length=10, max_length=4000, description="the operator's token")
    lang: Lang | None = LANG_FIELD


class CentreConsentAnswerIn(BaseModel):
    challenge_id: str = Field(min_length=1, max_length=64)
    code: str = Field(pattern=r"^[0-9]{6}$")
    actor_token: str = Field(min_length=10, max_length=4000)


class CentreCitizenOut(BaseModel):
    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None


class CentreConsentOut(BaseModel):
    consent_token: str = Field(
        description="the citizen's token naming the operator as actor (`act`); accepted only "
        "by the gateway's /api/v1/centre endpoints"
    )
    token_type: str = "urn:ietf:params:oauth:token-type:jwt"
    expires_in: int
    consent_id: str
    operator: str
    centre: str
    citizen: CentreCitizenOut


# -- admin ------------------------------------------------------------------------------------
class ClientIn(BaseModel):
    client_id: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$")
    agency_code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$")
    scopes: list[str] = Field(min_length=1)
    jwks: dict[str, Any] | None = Field(default=None, description="for private_key_jwt")
    generate_secret: bool = True
    client_secret: str | None = Field(
        default=None,
        min_length=32,
        max_length=512,
        description="a secret of your own (e.g. `openssl rand -hex 32`, the value already in "
        "the agency's deployment); wins over generate_secret and is never echoed",
    )


class ClientOut(BaseModel):
    client_id: str
    agency_code: str
    scopes: list[str]
    client_secret: str | None = Field(default=None, description="shown once")
    private_key_jwt: bool
