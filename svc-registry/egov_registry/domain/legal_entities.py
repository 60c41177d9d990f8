"""Legal entities keyed by BIN: founders with exact shares, director, status life cycle."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Literal

from egov_registry.domain.civil_status import PersonRecord
from egov_registry.domain.common import Actor, require_whole
from meshkit.contracts.common import Share
from meshkit.contracts.registry import Founder as FounderOut
from meshkit.contracts.registry import LegalEntityRegistered, LegalEntityStatusChanged
from meshkit.errors import Conflict, RuleViolation
from meshkit.ids import BINKind, EntityType, is_valid_iin

LegalForm = Literal["LLP", "JSC", "SOLE_PROPRIETOR"]
EntityStatus = Literal["active", "suspended", "liquidated"]

#: BIN digit 5 by legal form (DESIGN §3): 4 resident legal entity, 6 individual entrepreneur (joint)
BIN_ENTITY_TYPE: dict[str, EntityType] = {
    "LLP": "resident",
    "JSC": "resident",
    "SOLE_PROPRIETOR": "individual_entrepreneur",
}
#: new registrations are head organisations (digit 6 = 0); branches are a later issue
BIN_KIND: BINKind = "head"

TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"suspended", "liquidated"}),
    "suspended": frozenset({"active", "liquidated"}),
    "liquidated": frozenset(),  # liquidation is final
}

OKED = re.compile(r"^[0-9]{2}(\.[0-9]{1,2}){0,3}$|^[0-9]{5}$")


@dataclass(frozen=True)
class FounderStake:
    id: str  # IIN or BIN
    share: Fraction

    @property
    def is_person(self) -> bool:
        return is_valid_iin(self.id)


def validate_application(
    legal_form: str, founders: Sequence[FounderStake], activity_codes: Sequence[str]
) -> None:
    """The rules that need nobody else's data."""
    seen: set[str] = set()
    for i, f in enumerate(founders):
        if f.id in seen:
            raise RuleViolation(
                f"founder {f.id} is listed twice", errors={f"founders.{i}.id": "listed twice"}
            )
        seen.add(f.id)
        if legal_form == "SOLE_PROPRIETOR" and not f.is_person:
            raise RuleViolation(
                "a sole proprietorship is founded by individuals only",
                errors={f"founders.{i}.id": "must be an IIN for a sole proprietor"},
            )
    require_whole((f.share for f in founders), "founders", "founders")
    for i, code in enumerate(activity_codes):
        if not OKED.match(code):
            raise RuleViolation(
                f"activity code {code!r} is not an OKED code",
                errors={f"activity_codes.{i}": "not an OKED code (e.g. 62.01 or 62010)"},
            )


def check_person(role: str, field_name: str, iin: str, person: PersonRecord | None) -> None:
    """A founder or director must be a living person of SDB Individuals."""
    if person is None:
        raise RuleViolation(
            f"{role} {iin} is not registered in SDB Individuals",
            errors={field_name: "not registered in SDB Individuals"},
        )
    if not person.alive:
        raise RuleViolation(f"{role} {iin} is deceased", errors={field_name: "is deceased"})


def search_key(*names: str) -> str:
    """Case- and form-insensitive text to search names by (Unicode: Қ matches қ)."""
    return " ".join(unicodedata.normalize("NFKC", n).casefold() for n in names)


@dataclass
class LegalEntity:
    bin: str
    name_kk: str
    name_ru: str
    legal_form: LegalForm
    status: EntityStatus
    director_iin: str
    founders: list[FounderStake]
    address: str
    activity_codes: list[str]
    registered_at: datetime
    application_ref: str | None = None
    status_reason: str | None = None
    status_effective_date: date | None = None
    events: list[LegalEntityStatusChanged] = field(default_factory=list, repr=False)

    def registered_event(self) -> LegalEntityRegistered:
        return LegalEntityRegistered(
            bin=self.bin,
            name_kk=self.name_kk,
            name_ru=self.name_ru,
            legal_form=self.legal_form,
            director_iin=self.director_iin,
            founders=[FounderOut(id=f.id, share=Share.of(f.share)) for f in self.founders],
            registered_at=self.registered_at,
            application_ref=self.application_ref,
        )

    def change_status(
        self, new_status: EntityStatus, reason: str, effective_date: date
    ) -> LegalEntityStatusChanged:
        if new_status == self.status:
            raise Conflict(f"{self.bin} is already {self.status}")
        if new_status not in TRANSITIONS[self.status]:
            raise Conflict(f"{self.bin} is {self.status}: it cannot become {new_status}")
        if effective_date < self.registered_at.date():
            raise RuleViolation(
                "the effective date is before the registration",
                errors={"effective_date": "before the registration date"},
            )
        old = self.status
        self.status = new_status
        self.status_reason = reason
        self.status_effective_date = effective_date
        event = LegalEntityStatusChanged(
            bin=self.bin,
            old_status=old,
            new_status=new_status,
            reason=reason,
            effective_date=effective_date,
        )
        self.events.append(event)
        return event

    def is_managed_by(self, actor: Actor) -> bool:
        """A citizen who directs or founded the entity may act for it (own data)."""
        return actor.user is not None and (
            actor.user == self.director_iin or any(f.id == actor.user for f in self.founders)
        )
