"""svc-identity contracts: the SDB Individuals API others call, and its events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from meshkit.contracts.common import Sex
from meshkit.events import EventData, event_type
from meshkit.ids import IIN

PersonStatus = Literal["active", "deceased"]
#: categories of a citizen's data a consent can cover
ConsentCategory = Literal[
    "personal",  # name, birth date, sex, citizenship
    "contacts",  # registered address, phone
    "family",  # parents and children
    "civil_status",  # birth, marriage, death acts
    "property",  # real estate owned
    "business",  # legal entities founded or directed
    "licenses",
    "payments",
    "notarial",
]
CertificateUsage = Literal["signing", "authentication"]


# -- HTTP: POST /persons, GET /persons/{iin} (through the gateway) ----------------------------
class PersonCreate(BaseModel):
    """An agency registers a person; identity allocates the IIN (birth date and sex encoded)."""

    surname: str = Field(min_length=1, max_length=100, examples=["Сәрсенбаев"])
    given_name: str = Field(min_length=1, max_length=100, examples=["Әлихан"])
    patronymic: str | None = Field(default=None, max_length=100, examples=["Нұрланұлы"])
    birth_date: date
    sex: Sex
    citizenship: str = Field(default="KZ", min_length=2, max_length=2, examples=["KZ"])
    birth_place: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{10,15}$", examples=["+77011234567"])
    mother_iin: IIN | None = None
    father_iin: IIN | None = None


class PersonOut(BaseModel):
    iin: IIN
    surname: str
    given_name: str
    patronymic: str | None = None
    birth_date: date
    sex: Sex
    citizenship: str
    address: str | None = None
    phone: str | None = None
    status: PersonStatus
    date_of_death: date | None = None
    mother_iin: str | None = None
    father_iin: str | None = None
    children_iins: list[str] = Field(default_factory=list)


class PersonUpdate(BaseModel):
    """``PATCH /persons/{iin}``: only the fields present change (names: registrars only)."""

    surname: str | None = Field(default=None, min_length=1, max_length=100)
    given_name: str | None = Field(default=None, min_length=1, max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{10,15}$")


class PersonSummary(BaseModel):
    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    birth_date: date
    sex: Sex
    status: PersonStatus


class FamilyOut(BaseModel):
    """``GET /persons/{iin}/family``."""

    iin: str
    mother: PersonSummary | None = None
    father: PersonSummary | None = None
    children: list[PersonSummary] = Field(default_factory=list)


class PersonPage(BaseModel):
    """``GET /persons`` (operators and agencies): search by IIN or name + birth date."""

    items: list[PersonSummary]
    total: int
    page: int
    size: int


# -- HTTP: consents --------------------------------------------------------------------------
class ConsentCheckOut(BaseModel):
    """``GET /consents/check?iin=&agency=&category=``."""

    allowed: bool
    consent_id: str | None = None
    expires_at: datetime | None = None
    purpose: str | None = None


# -- HTTP: national CA ---------------------------------------------------------------------
class CertificateRequest(BaseModel):
    """``POST /ca/certificates`` (routed). The subject is decided by the CA: a citizen's IIN,
    an agency's code (or, for the notary agency, ``holder_iin`` of one of its notaries)."""

    csr_pem: str = Field(min_length=1, max_length=20000)
    usage: CertificateUsage = "signing"
    holder_iin: IIN | None = Field(
        default=None, description="notary agency only: certify this notary (a person)"
    )


class IssuedCertificate(BaseModel):
    serial: str = Field(description="lower-case hex")
    certificate_pem: str
    chain_pem: str = Field(description="leaf then the national root")
    subject: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None


class CertificateStatusOut(BaseModel):
    """``GET /ca/certificates/{serial_hex}`` (public)."""

    serial: str
    subject: str
    status: Literal["good", "revoked"]
    revoked_at: datetime | None = None
    reason: str | None = None
    not_before: datetime
    not_after: datetime
    usage: CertificateUsage | None = None


class SignatureVerifyRequest(BaseModel):
    """``POST /ca/verify`` (public): a JWS carrying ``x5c``, or a detached signature over a
    SHA-256 document digest with the signer's certificate."""

    jws: str | None = Field(default=None, max_length=200000)
    digest: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$", description="hex")
    signature: str | None = Field(default=None, max_length=4000, description="base64")
    certificate_pem: str | None = Field(default=None, max_length=20000)
    signed_at: datetime | None = Field(default=None, description="detached: signing time")


class SignatureVerification(BaseModel):
    valid: bool
    reason: str | None = None
    signer: str | None = Field(default=None, description="IIN or agency code of the signer")
    signer_name: str | None = None
    signed_at: datetime | None = None
    certificate_serial: str | None = None
    certificate_status: Literal["good", "revoked", "unknown"] | None = None
    revoked_at: datetime | None = None
    chain_valid: bool = False
    payload: dict[str, Any] | None = None


# -- events --------------------------------------------------------------------------------
@event_type("kz.egov.identity.person.registered.v1", description="a person entered SDB Individuals")
class PersonRegistered(EventData):
    iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    birth_date: date
    sex: Sex
    citizenship: str
    mother_iin: str | None = None
    father_iin: str | None = None


@event_type("kz.egov.identity.person.updated.v1", description="name, address or phone changed")
class PersonUpdated(EventData):
    iin: str
    changed: list[str] = Field(description="names of the fields that changed")


@event_type("kz.egov.identity.person.deceased.v1", description="a person was marked deceased")
class PersonDeceased(EventData):
    iin: str
    date_of_death: date
    act_number: str | None = None


@event_type("kz.egov.identity.consent.granted.v1", description="a citizen granted data access")
class ConsentGranted(EventData):
    consent_id: str
    iin: str
    agency: str
    categories: list[str]
    purpose: str
    expires_at: datetime


@event_type("kz.egov.identity.consent.revoked.v1", description="a citizen revoked a consent")
class ConsentRevoked(EventData):
    consent_id: str
    iin: str
    agency: str


@event_type(
    "kz.egov.identity.certificate.revoked.v1",
    description="the national CA revoked a certificate (signatures after revoked_at fail)",
)
class CertificateRevoked(EventData):
    serial: str
    holder: str
    usage: CertificateUsage
    reason: str
    revoked_at: datetime


#: why sessions were revoked (informational: a consumer denies the tokens whatever the reason)
SessionRevocationReason = Literal[
    "logout",  # the holder ended the session (/auth/logout, /oauth/revoke)
    "password_changed",  # reserved: an authenticated password change
    "password_reset",  # a new password set with a code sent to the registered phone
    "account_locked",  # repeated failed passwords or codes locked password login
    "operator",  # an operator revoked the sessions (admin API)
    "refresh_token_reused",  # a refresh token was presented twice: the session is stolen
    "person_deceased",  # the person was registered as deceased
]


@event_type(
    "kz.egov.identity.session.revoked.v1",
    description="sessions of a person were revoked: deny their access tokens at once",
)
class SessionRevoked(EventData):
    """Access tokens are stateless for their lifetime (``IDENTITY_ACCESS_TOKEN_TTL_S``);
    whoever accepts them denies, until they expire:

    * ``session_id`` set: every token whose ``sid`` claim equals it;
    * ``session_id`` null: every token whose ``sub`` is ``iin`` and whose ``iat`` is not
      after ``revoked_at`` in whole seconds (``iat <= floor(revoked_at)``), i.e. every
      session of the person that existed when the event was written.

    Subject of the envelope: the IIN. A deny entry can be dropped once
    ``revoked_at + access token TTL + 60 s`` has passed.
    """

    iin: IIN
    session_id: str | None = Field(
        default=None, description="the revoked session (the tokens' sid); null = every session"
    )
    reason: SessionRevocationReason
    revoked_at: datetime = Field(description="UTC")


@event_type(
    "kz.egov.identity.signing_key.retired.v1",
    description="a token signing key was revoked: tokens it signed stop being valid at once",
)
class SigningKeyRetired(EventData):
    """Emitted when an operator revokes a signing key (``POST /admin/keys/{kid}/revoke`` or
    ``POST /admin/keys/rotate`` with ``revoke_previous``); it is gone from the JWKS at once.
    A plain rotation emits nothing: the old key stays published until its tokens expire.
    Whoever caches the JWKS drops ``kid`` and refuses every token whose header names it.
    Subject of the envelope: the kid."""

    kid: str
    retired_at: datetime = Field(description="UTC: tokens signed with kid fail from then on")
