"""The facts an allowance depends on, asked of their owners through the e-government gateway.

svc-payments calls as agency ``payments`` (client credentials), on behalf of the claiming
citizen (``X-Mesh-User``) and with the legal basis as ``X-Mesh-Purpose``, so the call is
audited and shows in the citizen's data tracker:

- svc-identity ``GET /persons/{iin}``: the child and its parents (childbirth allowance);
- svc-registry ``GET /deaths?iin=``: the death acts of a person (funeral allowance).

Whatever keeps an owner from answering (unreachable, timed out, refused, an answer that is not
the contract) is :class:`~meshkit.errors.UpstreamUnavailable` (a retryable 503): eligibility
that could not be checked is never assumed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from egov_payments.service_layer.services import ChildRecord
from meshkit.contracts.identity import PersonOut
from meshkit.errors import DomainError, NotFound, UpstreamUnavailable
from meshkit.gateway_client import GatewayClient

CHILDBIRTH_PURPOSE = (
    "one-time childbirth allowance (Social Code of the Republic of Kazakhstan): "
    "is the claimant the child's mother or father"
)
FUNERAL_PURPOSE = (
    "one-time funeral allowance (Social Code of the Republic of Kazakhstan): "
    "is the death registered"
)


class _DeathAct(BaseModel):
    """One item of registry's ``GET /deaths?iin=`` (the fields payments relies on)."""

    model_config = ConfigDict(extra="ignore")

    act_number: str
    iin: str
    date_of_death: date
    registered_at: datetime
    declarant_iin: str | None = None


_DEATH_ACTS = TypeAdapter(list[_DeathAct])


@asynccontextmanager
async def _owner(agency: str, what: str) -> AsyncIterator[None]:
    try:
        yield
    except UpstreamUnavailable as exc:
        raise UpstreamUnavailable(
            f"{what} cannot be checked now ({exc.detail}); try again later",
            retry_after_s=exc.retry_after_s or 5,
        ) from exc
    except httpx.TransportError as exc:  # e.g. fetching the agency token
        raise UpstreamUnavailable(
            f"{what} cannot be checked now: the gateway is unreachable; try again later",
            retry_after_s=5,
        ) from exc
    except (DomainError, ValidationError, ValueError) as exc:
        # refused or answered outside the contract: a fault of the mesh, not of the claimant
        raise UpstreamUnavailable(
            f"{what} cannot be checked now: {agency} did not answer as agreed; try again later",
            retry_after_s=30,
        ) from exc


class GatewayFacts:
    """:class:`egov_payments.service_layer.services.AllowanceFacts` through the gateway.

    The gateway client is looked up at call time: the runtime creates it lazily, and tests
    install one wired to an in-process exchange.
    """

    def __init__(self, gateway: Callable[[], GatewayClient]) -> None:
        self._gateway = gateway

    async def child(self, iin: str, *, on_behalf_of: str) -> ChildRecord | None:
        async with _owner("identity", "the child's parents"):
            try:
                body = await self._gateway().get(
                    "identity",
                    f"/persons/{iin}",
                    purpose=CHILDBIRTH_PURPOSE,
                    on_behalf_of=on_behalf_of,
                )
            except NotFound:
                return None  # no such person: the caller learns only "not your child"
            person = PersonOut.model_validate(body)
        return ChildRecord(
            iin=person.iin,
            parents=frozenset(p for p in (person.mother_iin, person.father_iin) if p),
        )

    async def death_acts(self, iin: str, *, on_behalf_of: str) -> list[str]:
        return [a.act_number for a in await self._deaths(iin, on_behalf_of=on_behalf_of)]

    async def death_declarants(self, iin: str, *, on_behalf_of: str) -> set[str]:
        deaths = await self._deaths(iin, on_behalf_of=on_behalf_of)
        return {a.declarant_iin for a in deaths if a.declarant_iin}

    async def _deaths(self, iin: str, *, on_behalf_of: str) -> list[_DeathAct]:
        async with _owner("registry", "the registration of the death"):
            body = await self._gateway().get(
                "registry",
                "/deaths",
                params={"iin": iin},
                purpose=FUNERAL_PURPOSE,
                on_behalf_of=on_behalf_of,
            )
            acts = _DEATH_ACTS.validate_python(body)
        return [a for a in acts if a.iin == iin]
