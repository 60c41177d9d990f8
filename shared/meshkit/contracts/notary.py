"""svc-notary contracts: notarial act events (a registered sale triggers the registry)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from meshkit.contracts.common import Currency, Holder
from meshkit.events import EventData, event_type

ActKind = Literal["power_of_attorney", "property_sale", "copy_certification"]


@event_type("kz.egov.notary.act.registered.v1", description="a notarial act was registered")
class ActRegistered(EventData):
    act_number: str
    act_id: str | None = Field(
        default=None,
        description="the act's id as drafting answered it (what a waiting caller knows it by)",
    )
    kind: ActKind
    notary_iin: str
    registered_at: datetime
    parties: list[str] = Field(description="IIN/BIN of every party")
    # property sales only
    cadastral_number: str | None = None
    sellers: list[Holder] = Field(default_factory=list)
    buyers: list[Holder] = Field(default_factory=list)
    price_tiyn: int | None = None
    currency: Currency = Field(default="KZT", description="of price_tiyn: always KZT (DESIGN §3)")


@event_type("kz.egov.notary.act.executed.v1", description="the registry applied the act")
class ActExecuted(EventData):
    act_number: str


@event_type("kz.egov.notary.act.rejected.v1", description="the act could not be executed")
class ActRejected(EventData):
    act_number: str
    reason: str


@event_type(
    "kz.egov.notary.act.revoked.v1", description="an act (e.g. a power of attorney) was revoked"
)
class ActRevoked(EventData):
    act_number: str
    reason: str
