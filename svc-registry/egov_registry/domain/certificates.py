"""Signed certificates (the most requested e-services): content, number, validity."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from egov_registry.domain.civil_status import BirthAct, PersonRecord
from egov_registry.domain.legal_entities import LegalEntity
from egov_registry.domain.real_estate import Property
from meshkit.errors import RuleViolation
from meshkit.ids import is_valid_bin, is_valid_iin

CertificateKind = Literal[
    "real_estate_presence",
    "real_estate_absence",
    "address",
    "legal_entity_registration",
    "property_ownership",
    "birth",
]

TITLES: dict[str, dict[str, str]] = {
    "real_estate_presence": {
        "kk": "Жылжымайтын мүліктің бар екендігі туралы анықтама",
        "ru": "Справка о наличии недвижимого имущества",
        "en": "Certificate of real estate held",
    },
    "real_estate_absence": {
        "kk": "Жылжымайтын мүліктің жоқ екендігі туралы анықтама",
        "ru": "Справка об отсутствии недвижимого имущества",
        "en": "Certificate of no real estate held",
    },
    "address": {
        "kk": "Мекенжай анықтамасы",
        "ru": "Адресная справка",
        "en": "Address certificate",
    },
    "legal_entity_registration": {
        "kk": "Заңды тұлғаны мемлекеттік тіркеу туралы анықтама",
        "ru": "Справка о государственной регистрации юридического лица",
        "en": "Certificate of state registration of a legal entity",
    },
    "property_ownership": {
        "kk": "Жылжымайтын мүлікке меншік құқығы туралы анықтама",
        "ru": "Справка о праве собственности на недвижимое имущество",
        "en": "Certificate of ownership of real estate",
    },
    "birth": {
        "kk": "Туу туралы куәлік",
        "ru": "Свидетельство о рождении",
        "en": "Birth certificate",
    },
}

# no 0/O/1/I: the number is read aloud and typed in by people
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def certificate_number(year: int, seq: int) -> str:
    """``RC-2026-0000042-K7M2Q9XD``: sequential for people, with a random tail so that the
    public verify endpoint cannot be walked by guessing numbers."""
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"RC-{year}-{seq:07d}-{tail}"


def digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def real_estate_content(
    kind: CertificateKind, subject: str, properties: Sequence[Property], now: datetime
) -> dict[str, Any]:
    if kind == "real_estate_presence" and not properties:
        raise RuleViolation(
            f"{subject} holds no real estate: ask for a certificate of absence instead",
            errors={"kind": "the subject holds no real estate"},
        )
    if kind == "real_estate_absence" and properties:
        raise RuleViolation(
            f"{subject} holds real estate: ask for a certificate of presence instead",
            errors={"kind": "the subject holds real estate"},
        )
    return {
        "holder": subject,
        "properties": [
            {
                "cadastral_number": p.cadastral_number,
                "kind": p.kind,
                "address": p.address,
                "area_m2": str(p.area_m2),
                "share": f"{p.share_of(subject).numerator}/{p.share_of(subject).denominator}",
                "encumbrances": [
                    {"kind": e.kind, "imposed_by": e.imposed_by} for e in p.active_encumbrances(now)
                ],
            }
            for p in properties
        ],
    }


def ownership_content(
    subject: str, cadastral_number: str | None, prop: Property | None, now: datetime
) -> dict[str, Any]:
    """The certificate of ownership of one object: the subject's share, every co-owner, and
    the encumbrances in force."""
    if cadastral_number is None:
        raise RuleViolation(
            "a certificate of ownership names the object",
            errors={"cadastral_number": "required for property_ownership"},
        )
    if prop is None:
        raise RuleViolation(
            f"there is no property {cadastral_number} in the register",
            errors={"cadastral_number": "not in the register"},
        )
    share = prop.share_of(subject)
    if share == 0:
        raise RuleViolation(
            f"{subject} does not own {cadastral_number}",
            errors={"subject": "not an owner of this property"},
        )
    return {
        "holder": subject,
        "cadastral_number": prop.cadastral_number,
        "kind": prop.kind,
        "address": prop.address,
        "area_m2": str(prop.area_m2),
        "share": f"{share.numerator}/{share.denominator}",
        "owners": [
            {"id": holder, "share": f"{s.numerator}/{s.denominator}"}
            for holder, s in sorted(prop.owners.items())
        ],
        "encumbrances": [
            {"kind": e.kind, "imposed_by": e.imposed_by} for e in prop.active_encumbrances(now)
        ],
    }


def address_of_person(person: PersonRecord) -> dict[str, Any]:
    if not person.address:
        raise RuleViolation(
            f"{person.iin} has no registered address", errors={"subject": "no registered address"}
        )
    return {
        "iin": person.iin,
        "full_name": person.full_name,
        "address": person.address,
    }


def address_of_entity(entity: LegalEntity) -> dict[str, Any]:
    return {
        "bin": entity.bin,
        "name_kk": entity.name_kk,
        "name_ru": entity.name_ru,
        "address": entity.address,
    }


def registration_content(entity: LegalEntity) -> dict[str, Any]:
    return {
        "bin": entity.bin,
        "name_kk": entity.name_kk,
        "name_ru": entity.name_ru,
        "legal_form": entity.legal_form,
        "status": entity.status,
        "registered_at": entity.registered_at.isoformat(),
        "director_iin": entity.director_iin,
        "address": entity.address,
        "activity_codes": list(entity.activity_codes),
    }


def birth_content(act: BirthAct) -> dict[str, Any]:
    """The birth certificate: the child (with the IIN allocated at registration), the act of
    civil status it certifies, and the parents."""
    return {
        "child_iin": act.child_iin,
        "surname": act.surname,
        "given_name": act.given_name,
        "patronymic": act.patronymic,
        "birth_date": act.birth_date.isoformat(),
        "sex": act.sex,
        "place": act.place,
        "act_number": act.act_number,
        "registered_at": act.registered_at.isoformat(),
        "mother_iin": act.mother_iin,
        "father_iin": act.father_iin,
    }


def require_subject_fits(kind: CertificateKind, subject: str) -> None:
    if kind == "legal_entity_registration" and not is_valid_bin(subject):
        raise RuleViolation(
            "a registration certificate is about a legal entity (BIN)",
            errors={"subject": "must be a BIN"},
        )
    if kind == "birth" and not is_valid_iin(subject):
        raise RuleViolation(
            "a birth certificate is about a person (the child's IIN)",
            errors={"subject": "must be the child's IIN"},
        )
    if kind not in {"legal_entity_registration"} and not (
        is_valid_iin(subject) or is_valid_bin(subject)
    ):  # pragma: no cover — the request model already refuses it
        raise RuleViolation("not an IIN or BIN", errors={"subject": "not an IIN or BIN"})


@dataclass
class Certificate:
    number: str
    kind: CertificateKind
    subject_id: str
    issued_at: datetime
    expires_at: datetime
    document: str
    digest: str
    requested_by: str

    def status_at(self, now: datetime) -> Literal["valid", "expired"]:
        return "valid" if now < self.expires_at else "expired"
