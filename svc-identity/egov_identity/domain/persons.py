"""The Person aggregate (SDB Individuals) and the rules of IIN allocation."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from egov_identity.domain.errors import PersonDeceasedError, SerialsExhausted
from meshkit.contracts.identity import PersonDeceased, PersonRegistered, PersonUpdated
from meshkit.errors import RuleViolation
from meshkit.events import EventData
from meshkit.ids import IIN_SERIAL_MAX, Sex, make_iin, parse_iin

PersonStatus = Literal["active", "deceased"]
ADULT_AGE = 18
#: fields an agency may change with PATCH (names only by a registrar)
NAME_FIELDS = ("surname", "given_name", "patronymic")
CONTACT_FIELDS = ("address", "phone")


def normalize_name(value: str) -> str:
    """NFC, trimmed, inner whitespace collapsed: Kazakh letters compare and round-trip."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def name_key(value: str | None) -> str:
    """Case-insensitive search key of a name (Unicode casefold, so Ә matches ә)."""
    return normalize_name(value or "").casefold()


# -- IIN allocation ------------------------------------------------------------------------
def iin_for_serial(birth_date: date, sex: Sex, serial: int, *, today: date) -> str | None:
    """The IIN a serial gives, or None when its check digit is uncomputable (never issued).

    Birth date and sex are encoded (digits 1–7), the serial is digits 8–11.
    """
    if serial > IIN_SERIAL_MAX:
        raise SerialsExhausted(
            f"every IIN serial for {birth_date.isoformat()} ({sex}) is already allocated"
        )
    try:
        return make_iin(birth_date, sex, serial, today=today)
    except ValueError as exc:
        raise RuleViolation(str(exc), errors={"birth_date": str(exc)}) from None


def check_birth_date(birth_date: date, today: date) -> None:
    if birth_date > today:
        raise RuleViolation(
            "the birth date is in the future", errors={"birth_date": "must not be in the future"}
        )
    if birth_date.year < 1800:
        raise RuleViolation(
            "an IIN encodes birth years 1800–2099 only",
            errors={"birth_date": "must be 1800-01-01 or later"},
        )


@dataclass
class PersonDetails:
    """What an agency states when it registers a person."""

    surname: str
    given_name: str
    patronymic: str | None
    birth_date: date
    sex: Sex
    citizenship: str = "KZ"
    birth_place: str | None = None
    address: str | None = None
    phone: str | None = None
    mother_iin: str | None = None
    father_iin: str | None = None


@dataclass
class Person:
    iin: str
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: date
    sex: Sex
    citizenship: str
    birth_place: str | None = None
    address: str | None = None
    phone: str | None = None
    status: PersonStatus = "active"
    date_of_death: date | None = None
    death_act_number: str | None = None
    mother_iin: str | None = None
    father_iin: str | None = None
    children_iins: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    events: list[EventData] = field(default_factory=list, repr=False, compare=False)

    # -- creation ---------------------------------------------------------------------------
    @classmethod
    def register(cls, iin: str, details: PersonDetails, *, now: datetime) -> Person:
        info = parse_iin(iin, today=now.date())
        if info.birth_date != details.birth_date or info.sex != details.sex:
            raise RuleViolation("the IIN does not encode this birth date and sex")
        person = cls(
            iin=iin,
            surname=normalize_name(details.surname),
            given_name=normalize_name(details.given_name),
            patronymic=normalize_name(details.patronymic) if details.patronymic else None,
            birth_date=details.birth_date,
            sex=details.sex,
            citizenship=details.citizenship.upper(),
            birth_place=details.birth_place,
            address=details.address,
            phone=details.phone,
            mother_iin=details.mother_iin,
            father_iin=details.father_iin,
            created_at=now,
            updated_at=now,
        )
        if not person.surname or not person.given_name:
            raise RuleViolation("surname and given name must not be blank")
        person.events.append(
            PersonRegistered(
                iin=iin,
                surname=person.surname,
                given_name=person.given_name,
                patronymic=person.patronymic,
                birth_date=person.birth_date,
                sex=person.sex,
                citizenship=person.citizenship,
                mother_iin=person.mother_iin,
                father_iin=person.father_iin,
            )
        )
        return person

    # -- queries -----------------------------------------------------------------------------
    @property
    def is_deceased(self) -> bool:
        return self.status == "deceased"

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def is_minor_on(self, day: date) -> bool:
        return self.age_on(day) < ADULT_AGE

    def is_parent_of(self, child: Person) -> bool:
        return self.iin in (child.mother_iin, child.father_iin)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)

    # -- changes -----------------------------------------------------------------------------
    def update(self, changes: dict[str, str | None], *, now: datetime) -> list[str]:
        """Apply name/contact changes; returns the names of fields that really changed."""
        if self.is_deceased:
            raise PersonDeceasedError(f"person {self.iin} is deceased: the record is closed")
        changed: list[str] = []
        for name, raw in changes.items():
            if name not in NAME_FIELDS + CONTACT_FIELDS:
                raise RuleViolation(f"{name} cannot be changed", errors={name: "not changeable"})
            value = normalize_name(raw) if (raw is not None and name in NAME_FIELDS) else raw
            if name in ("surname", "given_name") and not value:
                raise RuleViolation(f"{name} must not be blank", errors={name: "must not be blank"})
            if value == "":
                value = None
            if getattr(self, name) != value:
                setattr(self, name, value)
                changed.append(name)
        if changed:
            self.updated_at = now
            self.events.append(PersonUpdated(iin=self.iin, changed=changed))
        return changed

    def link_parents(
        self, mother: Person | None, father: Person | None, *, now: datetime
    ) -> list[str]:
        """Link this person to its parents (idempotent); returns the fields that changed."""
        changed: list[str] = []
        for rel, parent, want_sex in (
            ("mother_iin", mother, "female"),
            ("father_iin", father, "male"),
        ):
            if parent is None:
                continue
            check_parent(parent, self.birth_date, want_sex, rel)
            if getattr(self, rel) != parent.iin:
                setattr(self, rel, parent.iin)
                changed.append(rel)
        if changed:
            self.updated_at = now
            self.events.append(PersonUpdated(iin=self.iin, changed=changed))
        return changed

    def mark_deceased(self, date_of_death: date, *, act_number: str | None, now: datetime) -> bool:
        """Close the record; False (and no event) when it already is — duplicates are harmless."""
        if self.is_deceased:
            return False
        if date_of_death < self.birth_date:
            raise RuleViolation(
                "date of death is before the birth date",
                errors={"date_of_death": "before the birth date"},
            )
        if date_of_death > now.date():
            raise RuleViolation(
                "date of death is in the future", errors={"date_of_death": "in the future"}
            )
        self.status = "deceased"
        self.date_of_death = date_of_death
        self.death_act_number = act_number
        self.updated_at = now
        self.events.append(
            PersonDeceased(iin=self.iin, date_of_death=date_of_death, act_number=act_number)
        )
        return True


def check_parent(parent: Person, child_birth: date, sex: Sex, field_name: str) -> None:
    if parent.sex != sex:
        raise RuleViolation(
            f"{field_name} must be the IIN of a {'woman' if sex == 'female' else 'man'}",
            errors={field_name: f"{parent.iin} is not a {sex} person"},
        )
    if parent.birth_date >= child_birth:
        raise RuleViolation(
            f"{field_name}: a parent must be born before the child",
            errors={field_name: "born after the child"},
        )
