"""SDB Individuals (svc-identity) reached through the e-government gateway (audited)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx

from egov_registry.domain.civil_status import FamilyRecord, PersonRecord
from meshkit.contracts.identity import (
    ConsentCategory,
    ConsentCheckOut,
    FamilyOut,
    PersonCreate,
    PersonOut,
)
from meshkit.errors import NotFound, UpstreamUnavailable
from meshkit.gateway_client import GatewayClient


def _record(person: PersonOut) -> PersonRecord:
    return PersonRecord(
        iin=person.iin,
        sex=person.sex,
        status=person.status,
        birth_date=person.birth_date,
        address=person.address,
        surname=person.surname,
        given_name=person.given_name,
        patronymic=person.patronymic,
    )


@asynccontextmanager
async def _reachable() -> AsyncIterator[None]:
    # the gateway client wraps transport errors of the call itself, not those of fetching
    # its agency token: an unreachable gateway is a 503 problem, never a 500
    try:
        yield
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"the gateway is unreachable ({type(exc).__name__})") from exc


#: the agency code consents are checked for (identity's ``GET /consents/check?agency=``)
REGISTRY = "registry"


class GatewayIdentity:
    """``GET /x/identity/persons/{iin}``, ``GET /x/identity/persons/{iin}/family``,
    ``GET /x/identity/consents/check`` and ``POST /x/identity/persons``.

    The gateway client is looked up at call time: the runtime creates it lazily, and tests
    install one wired to an in-process exchange.
    """

    def __init__(self, gateway: Callable[[], GatewayClient]) -> None:
        self._gateway = gateway

    async def person(
        self, iin: str, *, purpose: str, on_behalf_of: str | None
    ) -> PersonRecord | None:
        try:
            async with _reachable():
                body = await self._gateway().get(
                    "identity", f"/persons/{iin}", purpose=purpose, on_behalf_of=on_behalf_of
                )
        except NotFound:
            return None
        return _record(PersonOut.model_validate(body))

    async def register_child(
        self, person: PersonCreate, *, idempotency_key: str, on_behalf_of: str | None
    ) -> PersonRecord:
        async with _reachable():
            body = await self._gateway().post(
                "identity",
                "/persons",
                json=person.model_dump(mode="json"),
                purpose="civil registration of a birth: allocate the child's IIN",
                on_behalf_of=on_behalf_of,
                idempotency_key=idempotency_key,
            )
        return _record(PersonOut.model_validate(body))

    async def family(
        self, iin: str, *, purpose: str, on_behalf_of: str | None
    ) -> FamilyRecord | None:
        try:
            async with _reachable():
                body = await self._gateway().get(
                    "identity", f"/persons/{iin}/family", purpose=purpose, on_behalf_of=on_behalf_of
                )
        except NotFound:
            return None
        family = FamilyOut.model_validate(body)
        return FamilyRecord(
            iin=family.iin,
            parents=frozenset(p.iin for p in (family.mother, family.father) if p is not None),
            children=frozenset(c.iin for c in family.children),
        )

    async def consented(
        self, iin: str, *, category: ConsentCategory, purpose: str, on_behalf_of: str | None
    ) -> bool:
        async with _reachable():
            body = await self._gateway().get(
                "identity",
                "/consents/check",
                params={"iin": iin, "agency": REGISTRY, "category": category},
                purpose=purpose,
                on_behalf_of=on_behalf_of,
            )
        return ConsentCheckOut.model_validate(body).allowed
