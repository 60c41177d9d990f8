"""svc-registry contracts: civil status, legal entities, real estate — API shapes and events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from meshkit.contracts.common import Holder, Sex, Share
from meshkit.events import EventData, event_type

LegalForm = Literal["LLP", "JSC", "SOLE_PROPRIETOR"]
EntityStatus = Literal["active", "suspended", "liquidated"]
EncumbranceKind = Literal["mortgage", "arrest"]


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


# -- HTTP: GET /properties/{cadastral_number} ---------------------------------------------------
class Encumbrance(BaseModel):
    id: str
    kind: EncumbranceKind
    imposed_by: str
    imposed_at: datetime
    lifts_at: datetime | None = None
    released_at: datetime | None = None

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
