"""svc-identity contracts: the SDB Individuals API others call, and its events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from meshkit.contracts.common import Sex
from meshkit.events import EventData, event_type
from meshkit.ids import IIN

PersonStatus = Literal["active", "deceased"]


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
