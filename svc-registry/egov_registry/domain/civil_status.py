"""Civil-status acts: births and deaths, and the rules on the parents and the deceased."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from egov_registry.domain.common import Actor
from meshkit.contracts.registry import BirthRegistered, DeathRegistered
from meshkit.errors import Conflict, RuleViolation

Sex = Literal["male", "female"]


@dataclass(frozen=True)
class PersonRecord:
    """What the registry needs to know of a person held by SDB Individuals (identity)."""

    iin: str
    sex: Sex
    status: Literal["active", "deceased"]
    birth_date: date
    address: str | None = None
    surname: str = ""
    given_name: str = ""
    patronymic: str | None = None

    @property
    def alive(self) -> bool:
        return self.status == "active"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)


def _require_parent(
    role: str, iin: str, person: PersonRecord | None, sex: Sex, child_birth: date
) -> None:
    field = f"{role}_iin"
    if person is None:
        raise RuleViolation(
            f"{role} {iin} is not registered in SDB Individuals",
            errors={field: "not registered in SDB Individuals"},
        )
    if person.sex != sex:
        raise RuleViolation(
            f"{role} {iin} is registered as {person.sex}", errors={field: f"must be {sex}"}
        )
    if not person.alive:
        # a father who died before the birth is still the father; but the register refuses a
        # birth declared by or for a person recorded as deceased — an operator handles it
        raise RuleViolation(f"{role} {iin} is deceased", errors={field: "is deceased"})
    if person.birth_date >= child_birth:
        raise RuleViolation(
            f"{role} {iin} was born after the child",
            errors={field: "born after the child"},
        )


def check_parents(
    *,
    birth_date: date,
    mother_iin: str,
    mother: PersonRecord | None,
    father_iin: str | None,
    father: PersonRecord | None,
    today: date,
) -> None:
    if birth_date > today:
        raise RuleViolation(
            "a birth date cannot be in the future", errors={"birth_date": "in the future"}
        )
    _require_parent("mother", mother_iin, mother, "female", birth_date)
    if father_iin is not None:
        _require_parent("father", father_iin, father, "male", birth_date)


@dataclass
class BirthAct:
    act_number: str
    child_iin: str
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: date
    sex: Sex
    place: str
    mother_iin: str
    father_iin: str | None
    registered_at: datetime
    registered_by: str

    def registered_event(self) -> BirthRegistered:
        return BirthRegistered(
            act_number=self.act_number,
            child_iin=self.child_iin,
            surname=self.surname,
            given_name=self.given_name,
            patronymic=self.patronymic,
            birth_date=self.birth_date,
            sex=self.sex,
            place=self.place,
            mother_iin=self.mother_iin,
            father_iin=self.father_iin,
            registered_at=self.registered_at,
        )

    def readable_by(self, actor: Actor) -> bool:
        """Agencies; a parent; the person the act is about."""
        if not actor.is_citizen:
            return True
        return actor.user in {self.mother_iin, self.father_iin, self.child_iin}


def check_death(
    *,
    iin: str,
    person: PersonRecord | None,
    date_of_death: date,
    today: date,
    existing_act: str | None,
) -> None:
    if existing_act is not None:
        raise Conflict(f"the death of {iin} is already registered (act {existing_act})")
    if person is None:
        raise RuleViolation(
            f"person {iin} is not registered in SDB Individuals",
            errors={"iin": "not registered in SDB Individuals"},
        )
    if not person.alive:
        raise Conflict(f"person {iin} is already recorded as deceased")
    if date_of_death > today:
        raise RuleViolation(
            "a date of death cannot be in the future", errors={"date_of_death": "in the future"}
        )
    if date_of_death < person.birth_date:
        raise RuleViolation(
            "the date of death is before the birth date",
            errors={"date_of_death": "before the birth date"},
        )


@dataclass(frozen=True)
class FamilyRecord:
    """A person's parents and children as SDB Individuals (identity) records them."""

    iin: str
    parents: frozenset[str]
    children: frozenset[str]

    def is_parent_or_child(self, iin: str | None) -> bool:
        return iin is not None and (iin in self.parents or iin in self.children)


#: why a citizen may not declare a death (the single window shows it as it is)
NOT_A_DECLARANT = (
    "you can register a death only of your parent or child, or with a medical death notice"
)


@dataclass
class DeathNotice:
    """A medical death notice an agency filed; the death act it leads to consumes it."""

    id: str
    iin: str
    date_of_death: date
    place: str
    issued_by: str
    cause: str | None
    filed_at: datetime
    filed_by: str
    act_number: str | None = None
    consumed_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.act_number is None


def check_notice_date(notice: DeathNotice, date_of_death: date) -> None:
    """A citizen's declaration agrees with the medical notice on file."""
    if notice.date_of_death != date_of_death:
        raise RuleViolation(
            f"the date of death differs from the medical death notice "
            f"({notice.date_of_death.isoformat()}, {notice.issued_by})",
            errors={
                "date_of_death": f"the medical death notice says {notice.date_of_death.isoformat()}"
            },
        )


@dataclass
class DeathAct:
    act_number: str
    iin: str
    date_of_death: date
    place: str
    cause: str | None
    registered_at: datetime
    registered_by: str
    declarant_iin: str | None = None
    death_notice_id: str | None = None

    def registered_event(self) -> DeathRegistered:
        return DeathRegistered(
            act_number=self.act_number,
            iin=self.iin,
            date_of_death=self.date_of_death,
            registered_at=self.registered_at,
        )

    def readable_without_family(self, actor: Actor) -> bool:
        """Agencies and the citizen who declared it; other citizens only if identity says
        they are a parent or child of the deceased (the service layer asks)."""
        return not actor.is_citizen or (actor.user is not None and actor.user == self.declarant_iin)
