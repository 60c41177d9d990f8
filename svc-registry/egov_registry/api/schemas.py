"""HTTP shapes of the registry that are not fixed contracts, and domain → contract mapping."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from egov_registry.domain import certificates as cert_domain
from egov_registry.domain import civil_status, legal_entities, real_estate
from meshkit.contracts.common import Holder, Share
from meshkit.contracts.registry import (
    BirthActOut,
    CertificateOut,
    CertificateStatus,
    CertificateVerification,
    DeathActOut,
    DeathNoticeOut,
    Encumbrance,
    Founder,
    LegalEntityOut,
    PropertyOut,
)

CADASTRAL_PATTERN = real_estate.CADASTRAL_NUMBER.pattern


class PropertyCreate(BaseModel):
    cadastral_number: str = Field(pattern=CADASTRAL_PATTERN, examples=["21:318:010:123:4"])
    kind: Literal["apartment", "house", "land_plot", "non_residential", "parking_space"]
    address: str = Field(min_length=1, max_length=300)
    area_m2: Decimal = Field(gt=0, max_digits=12, decimal_places=2, examples=["78.50"])
    owners: list[Holder] = Field(min_length=1, max_length=50)


class EncumbranceCreate(BaseModel):
    kind: Literal["mortgage", "arrest"]
    imposed_by: str | None = Field(
        default=None,
        max_length=200,
        description="court, bailiff or bank (name or BIN); default: the calling agency",
    )
    basis: str | None = Field(default=None, max_length=500, examples=["court order 2-1234/2026"])
    lifts_at: datetime | None = Field(default=None, description="when it lifts by itself, if ever")


class EncumbranceRelease(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class LegalEntityPage(BaseModel):
    items: list[LegalEntityOut]
    total: int
    limit: int
    offset: int


class PropertyList(BaseModel):
    holder: str
    items: list[PropertyOut]


class VerifyRequest(BaseModel):
    document: str = Field(min_length=1, max_length=200_000, description="the certificate (JWS)")


def birth_out(act: civil_status.BirthAct) -> BirthActOut:
    return BirthActOut(
        act_number=act.act_number,
        child_iin=act.child_iin,
        surname=act.surname,
        given_name=act.given_name,
        patronymic=act.patronymic,
        birth_date=act.birth_date,
        sex=act.sex,
        place=act.place,
        mother_iin=act.mother_iin,
        father_iin=act.father_iin,
        registered_at=act.registered_at,
    )


def death_out(act: civil_status.DeathAct) -> DeathActOut:
    return DeathActOut(
        act_number=act.act_number,
        iin=act.iin,
        date_of_death=act.date_of_death,
        place=act.place,
        cause=act.cause,
        registered_at=act.registered_at,
        declarant_iin=act.declarant_iin,
        death_notice_id=act.death_notice_id,
    )


def death_notice_out(n: civil_status.DeathNotice) -> DeathNoticeOut:
    return DeathNoticeOut(
        id=n.id,
        iin=n.iin,
        date_of_death=n.date_of_death,
        place=n.place,
        issued_by=n.issued_by,
        cause=n.cause,
        filed_at=n.filed_at,
        filed_by=n.filed_by,
        act_number=n.act_number,
    )


def entity_out(e: legal_entities.LegalEntity) -> LegalEntityOut:
    return LegalEntityOut(
        bin=e.bin,
        name_kk=e.name_kk,
        name_ru=e.name_ru,
        legal_form=e.legal_form,
        status=e.status,
        director_iin=e.director_iin,
        founders=[Founder(id=f.id, share=Share.of(f.share)) for f in e.founders],
        address=e.address,
        activity_codes=list(e.activity_codes),
        registered_at=e.registered_at,
        status_reason=e.status_reason,
        status_effective_date=e.status_effective_date,
    )


def encumbrance_out(e: real_estate.Encumbrance) -> Encumbrance:
    return Encumbrance(
        id=e.id,
        kind=e.kind,
        imposed_by=e.imposed_by,
        imposed_at=e.imposed_at,
        lifts_at=e.lifts_at,
        released_at=e.released_at,
        basis=e.basis,
        release_reason=e.release_reason,
    )


def property_out(p: real_estate.Property) -> PropertyOut:
    return PropertyOut(
        cadastral_number=p.cadastral_number,
        kind=p.kind,
        address=p.address,
        # the contract carries area as a JSON number; it is stored exactly (2 decimals)
        area_m2=float(p.area_m2),
        owners=[Holder(id=s.holder, share=Share.of(s.share)) for s in p.stakes()],
        encumbrances=[encumbrance_out(e) for e in p.encumbrances],
        registered_at=p.registered_at,
    )


def certificate_out(c: cert_domain.Certificate) -> CertificateOut:
    return CertificateOut(
        number=c.number,
        kind=c.kind,
        subject=c.subject_id,
        issued_at=c.issued_at,
        expires_at=c.expires_at,
        document=c.document,
    )


def certificate_status_out(
    c: cert_domain.Certificate, now: datetime, verdict: CertificateVerification | None = None
) -> CertificateStatus:
    status = c.status_at(now)
    valid = status == "valid" and (verdict is None or verdict.valid)
    return CertificateStatus(
        number=c.number,
        kind=c.kind,
        subject=c.subject_id,
        issued_at=c.issued_at,
        expires_at=c.expires_at,
        status=status,
        valid=valid,
        reason=None if valid else (verdict.reason if verdict is not None else "expired"),
        title=cert_domain.TITLES.get(c.kind),
    )
