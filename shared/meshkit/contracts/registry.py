"""svc-registry contracts: civil status, legal entities, real estate — API shapes and events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from meshkit.contracts.common import Holder, Sex, Share
from meshkit.events import EventData, event_type
from meshkit.ids import IIN, IINOrBIN

LegalForm = Literal["LLP", "JSC", "SOLE_PROPRIETOR"]
EntityStatus = Literal["active", "suspended", "liquidated"]
EncumbranceKind = Literal["mortgage", "arrest"]
CertificateKind = Literal[
    "real_estate_presence",
    "real_estate_absence",
    "address",
    "legal_entity_registration",
    "property_ownership",
    "birth",
]


# -- HTTP: POST /births (Idempotency-Key header), GET /births/{act_number} ---------------------
class BirthCreate(BaseModel):
    """A birth to register: identity creates the child and allocates the IIN."""

    surname: str = Field(min_length=1, max_length=100, examples=["Сәрсенбаев"])
    given_name: str = Field(min_length=1, max_length=100, examples=["Нұрсұлтан"])
    patronymic: str | None = Field(default=None, max_length=100, examples=["Әлиханұлы"])
    birth_date: date
    sex: Sex
    place: str = Field(
        min_length=1, max_length=200, examples=["Астана қ., №1 перинаталдық орталық"]
    )
    mother_iin: IIN
    father_iin: IIN | None = None


class BirthActOut(BaseModel):
    act_number: str = Field(examples=["B-2026-0000001"])
    child_iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    birth_date: date
    sex: Sex
    place: str
    mother_iin: str
    father_iin: str | None = None
    registered_at: datetime


# -- HTTP: POST /deaths, GET /deaths/{act_number} ---------------------------------------------
class DeathCreate(BaseModel):
    iin: IIN
    date_of_death: date
    place: str = Field(min_length=1, max_length=200)
    cause: str | None = Field(default=None, max_length=300)


class DeathActOut(BaseModel):
    act_number: str = Field(examples=["D-2026-0000001"])
    iin: str
    date_of_death: date
    place: str
    cause: str | None = None
    registered_at: datetime
    declarant_iin: str | None = Field(
        default=None, description="the citizen who declared the death (none: an agency did)"
    )
    death_notice_id: str | None = Field(
        default=None, description="the medical death notice this act consumed, if any"
    )


# -- HTTP: GET /deaths?iin= (agencies) -------------------------------------------------------
class DeathActSummary(BaseModel):
    """One item of ``GET /deaths?iin=``: empty list when no death of that person is on record."""

    act_number: str = Field(examples=["D-2026-0000001"])
    iin: str
    date_of_death: date
    registered_at: datetime
    declarant_iin: str | None = Field(
        default=None, description="the citizen who declared the death (None: an agency)"
    )


# -- HTTP: POST /death-notices, GET /death-notices/{id} (agencies) ----------------------------
class DeathNoticeCreate(BaseModel):
    """A medical death notice filed by an agency for a medical organisation: with it on file,
    any citizen may declare the death (``POST /deaths``), not only a parent or child."""

    iin: IIN
    date_of_death: date
    place: str = Field(min_length=1, max_length=200)
    issued_by: str = Field(
        min_length=1,
        max_length=200,
        description="the medical organisation that certified the death",
        examples=["Астана қ. №1 қалалық ауруханасы"],
    )
    cause: str | None = Field(default=None, max_length=300)


class DeathNoticeOut(BaseModel):
    id: str
    iin: str
    date_of_death: date
    place: str
    issued_by: str
    cause: str | None = None
    filed_at: datetime
    filed_by: str = Field(description="the agency that filed it")
    act_number: str | None = Field(
        default=None, description="the death act that consumed it (none while it is open)"
    )


# -- HTTP: POST /legal-entities ----------------------------------------------------------------
class FounderIn(BaseModel):
    id: IINOrBIN = Field(description="IIN of a person or BIN of an entity")
    share: Share


class LegalEntityCreate(BaseModel):
    name_kk: str = Field(min_length=1, max_length=300, examples=["«Дала Софт» ЖШС"])
    name_ru: str = Field(min_length=1, max_length=300, examples=["ТОО «Дала Софт»"])
    legal_form: Literal["LLP", "JSC", "SOLE_PROPRIETOR"]
    founders: list[FounderIn] = Field(min_length=1, max_length=50)
    director_iin: IIN
    address: str = Field(min_length=1, max_length=300)
    activity_codes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="OKED codes, e.g. 62.01 or 62010",
    )
    application_ref: str | None = Field(default=None, max_length=100)


class LegalEntityStatusChange(BaseModel):
    status: Literal["active", "suspended", "liquidated"]
    reason: str = Field(min_length=1, max_length=500)
    effective_date: date | None = Field(default=None, description="default: today")


# -- HTTP: GET /legal-entities/{bin} ----------------------------------------------------------
class Founder(BaseModel):
    id: str = Field(description="IIN of a person or BIN of an entity")
    share: Share


class LegalEntityOut(BaseModel):
    bin: str
    name_kk: str
    name_ru: str
    legal_form: LegalForm
    status: EntityStatus
    director_iin: str
    founders: list[Founder]
    address: str
    activity_codes: list[str] = Field(default_factory=list)
    registered_at: datetime
    status_reason: str | None = None
    status_effective_date: date | None = None


# -- HTTP: GET /properties/{cadastral_number} ---------------------------------------------------
class Encumbrance(BaseModel):
    id: str
    kind: EncumbranceKind
    imposed_by: str
    imposed_at: datetime
    lifts_at: datetime | None = None
    released_at: datetime | None = None
    basis: str | None = Field(default=None, description="court order, mortgage contract, …")
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None


class PropertyOut(BaseModel):
    cadastral_number: str
    kind: str
    address: str
    area_m2: float
    owners: list[Holder]
    encumbrances: list[Encumbrance] = Field(default_factory=list)
    registered_at: datetime | None = None


# -- HTTP: POST /certificates, GET /certificates/{number}, public verification ---------------------
class CertificateRequest(BaseModel):
    kind: CertificateKind
    subject: IINOrBIN
    cadastral_number: str | None = Field(
        default=None,
        max_length=30,
        description="property_ownership: the object whose ownership by the subject is certified",
        examples=["21:320:101:4521"],
    )


class CertificateOut(BaseModel):
    number: str
    kind: CertificateKind
    subject: str
    issued_at: datetime
    expires_at: datetime
    document: str = Field(description="compact JWS with the registry's certificate chain (x5c)")


class CertificateStatus(BaseModel):
    number: str
    kind: CertificateKind
    subject: str
    issued_at: datetime
    expires_at: datetime
    status: Literal["valid", "expired"]
    valid: bool = Field(
        description="in force, and the document on record still verifies (signature, chain to "
        "the national CA, the signing certificate not revoked)"
    )
    reason: str | None = Field(default=None, description="why it is not valid")
    title: dict[str, str] | None = Field(
        default=None, description="the kind of document in kk/ru/en, e.g. Туу туралы куәлік"
    )


class CertificateVerification(BaseModel):
    valid: bool
    reason: str | None = None
    number: str | None = None
    kind: str | None = None
    subject: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    signer: str | None = None


# -- events --------------------------------------------------------------------------------
@event_type("kz.egov.registry.birth.registered.v1", description="a birth was registered")
class BirthRegistered(EventData):
    act_number: str
    child_iin: str
    surname: str
    given_name: str
    patronymic: str | None = None
    birth_date: date
    sex: Sex
    place: str
    mother_iin: str | None = None
    father_iin: str | None = None
    registered_at: datetime


@event_type("kz.egov.registry.death.registered.v1", description="a death was registered")
class DeathRegistered(EventData):
    act_number: str
    iin: str
    date_of_death: date
    registered_at: datetime


@event_type("kz.egov.registry.legal_entity.registered.v1", description="a legal entity got a BIN")
class LegalEntityRegistered(EventData):
    bin: str
    name_kk: str
    name_ru: str
    legal_form: LegalForm
    director_iin: str
    founders: list[Founder]
    registered_at: datetime
    application_ref: str | None = Field(default=None, description="caller's reference, if any")


@event_type(
    "kz.egov.registry.legal_entity.status_changed.v1", description="active/suspended/liquidated"
)
class LegalEntityStatusChanged(EventData):
    bin: str
    old_status: EntityStatus
    new_status: EntityStatus
    reason: str
    effective_date: date


@event_type("kz.egov.registry.property.transferred.v1", description="ownership transferred")
class PropertyTransferred(EventData):
    cadastral_number: str
    act_number: str = Field(description="the notarial act that caused the transfer")
    sellers: list[Holder]
    buyers: list[Holder]
    owners_after: list[Holder]


@event_type("kz.egov.registry.property.transfer_rejected.v1", description="a transfer was refused")
class PropertyTransferRejected(EventData):
    cadastral_number: str
    act_number: str
    reason: str


@event_type("kz.egov.registry.certificate.issued.v1", description="a signed certificate was issued")
class CertificateIssued(EventData):
    number: str
    kind: str
    subject_id: str
    expires_at: datetime
