"""The initial content of the Unified Register: the five agencies and the gateway as members,
their contract operations, 60+ public services (four composite) and the default grants.

Nothing here is a copy: it is all data, ``shared/meshkit/reference/register/*.yaml`` (one file
per agency, owned by it; the composite services and the grants; validated at import by
:mod:`egov_gateway.register.seed_data` — a malformed file stops the gateway at start). Seeded
idempotently on start (``service_layer/register.py``); operators edit the register afterwards
through the admin API. Fees are in tiyn: the data's multiple of the MRP (monthly calculation
index) of the day the register is seeded, read from ``meshkit.reference.mrp_tiyn`` — the one MRP
table (``shared/meshkit/reference/mrp.json``). The ``lc-license-*`` services are generated from
E-Licensing's own catalogue (``shared/meshkit/reference/licensing/licence_types.json``): codes,
names, fees and terms are licensing's; a type licensing does not have cannot be offered here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from egov_gateway.register.domain.model import Member, OperationKey, PublicService
from egov_gateway.register.seed_data import AGENCIES, register_data
from meshkit.calendar import local_date
from meshkit.ids import next_bin
from meshkit.reference import mrp_tiyn

__all__ = [
    "AGENCIES",
    "CONTRACT_OPERATIONS",
    "DEFAULT_GRANTS",
    "GATEWAY_GRANTS",
    "LICENSING_TYPES",
    "MRP_TIYN",
    "PUBLIC_PREFIXES",
    "WITHDRAWN_GATEWAY_GRANTS",
    "composite_services",
    "default_agency_urls",
    "member_bin",
    "seed_day",
    "seed_grants",
    "seed_members",
    "seed_services",
    "simple_services",
    "withdrawn_grants",
]

_DATA = register_data()  # validated now: a malformed file stops the gateway at start


def seed_day() -> date:
    """The (Almaty) day the register is seeded: its fees are in that day's MRP."""
    return local_date(datetime.now(UTC))


#: 1 MRP in tiyn on the day of seeding — never a copy: ``meshkit.reference.mrp_tiyn``
MRP_TIYN = mrp_tiyn(seed_day())
DEFAULT_PORTS = {a: f.member.port for a, f in _DATA.agencies.items() if f.member.port}
#: the agreed contract operations of each agency (``member.operations`` of its file)
CONTRACT_OPERATIONS: dict[str, list[str]] = _DATA.contract_operations()
PUBLIC_PREFIXES: dict[str, list[str]] = {
    a: list(f.member.public_prefixes) for a, f in _DATA.agencies.items()
}
#: register code → (E-Licensing's type, how the form fills the type's ``details``)
LICENSING_TYPES: dict[str, tuple[str, dict[str, str]]] = _DATA.licensing_types()
#: client → the operations it may call (the agencies' documented flows)
DEFAULT_GRANTS: dict[str, list[str]] = {
    client: list(ops) for client, ops in _DATA.gateway.grants.items()
}
#: what the gateway's own client may call, and why. Nothing citizen-facing: every step of a
#: citizen's application runs on the citizen's own authority (the citizen's mandate)
GATEWAY_GRANTS: dict[str, str] = {g.operation: g.reason for g in _DATA.gateway.gateway_grants}
#: given to the gateway by earlier releases (a confused deputy); withdrawn once per register
WITHDRAWN_GATEWAY_GRANTS: tuple[str, ...] = tuple(_DATA.gateway.withdrawn_gateway_grants)


def default_agency_urls() -> dict[str, str]:
    return {a: f"http://127.0.0.1:{p}" for a, p in DEFAULT_PORTS.items()}


def member_bin(code: str) -> str:
    f = _DATA.gateway if code == "gateway" else _DATA.agencies[code]
    seed = f.member.bin
    return next_bin(seed.year, seed.month, "resident", "head", seed.serial)[0]


def seed_members(agency_urls: dict[str, str]) -> list[Member]:
    out = [
        Member(
            code=code,
            member_class="GOV",
            member_code=member_bin(code),
            name=f.member.name.localized(),
            base_urls=[agency_urls[code]],
            public_prefixes=list(f.member.public_prefixes),
            declared_operations=list(f.member.operations),
        )
        for code, f in _DATA.agencies.items()
    ]
    # the gateway is a client of the exchange (composite services), not a provider
    out.append(
        Member(
            code="gateway",
            member_class="GOV",
            member_code=member_bin("gateway"),
            name=_DATA.gateway.member.name.localized(),
            base_urls=[],
            provider=False,
            public_prefixes=[],
        )
    )
    return out


def simple_services() -> list[PublicService]:
    return _DATA.simple_services(MRP_TIYN)


def composite_services() -> list[PublicService]:
    return _DATA.composite_services(MRP_TIYN)


def seed_services() -> list[PublicService]:
    return [*simple_services(), *composite_services()]


def seed_grants() -> list[tuple[str, str]]:
    """Default ACL: the agencies' documented flows, and the gateway's own needs (with reasons).
    Composite steps need no grant: they run as the applicant (the citizen's mandate)."""
    pairs = {
        (client, OperationKey.parse(op).id) for client, ops in DEFAULT_GRANTS.items() for op in ops
    }
    pairs |= {("gateway", OperationKey.parse(op).id) for op in GATEWAY_GRANTS}
    return sorted(pairs)


def withdrawn_grants() -> list[tuple[str, str]]:
    return [("gateway", op) for op in WITHDRAWN_GATEWAY_GRANTS if op not in GATEWAY_GRANTS]
