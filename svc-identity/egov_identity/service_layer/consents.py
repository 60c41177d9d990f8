"""Use cases of consents, and the citizen's view of who holds which of their data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from egov_identity.domain.consents import Consent
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from meshkit.auth.assertion import RoutedCall
from meshkit.contracts.identity import ConsentCategory
from meshkit.errors import NotFound, PermissionDenied, RuleViolation

#: what the mesh's agencies hold by law (their own registers), whatever the consents say
HELD_BY_LAW: dict[str, tuple[str, list[str]]] = {
    "identity": ("SDB Individuals: the record itself", ["personal", "contacts", "family"]),
    "registry": (
        "civil-status acts, legal entities and real estate",
        ["civil_status", "property", "business"],
    ),
    "licensing": ("licence applications and licences", ["licenses"]),
    "payments": ("invoices and payments", ["payments"]),
    "notary": ("notarial acts", ["notarial"]),
}


def _citizen_iin(call: RoutedCall) -> str:
    if not call.is_citizen or not call.user:
        raise PermissionDenied("only a citizen (on their own behalf) may do this")
    return call.user


async def grant_consent(
    uow: IdentityUnitOfWork,
    call: RoutedCall,
    *,
    agency: str,
    categories: list[ConsentCategory],
    purpose: str,
    expires_at: datetime,
    now: datetime,
) -> Consent:
    iin = _citizen_iin(call)
    consent = Consent.grant(
        iin=iin,
        agency=agency,
        categories=categories,
        purpose=purpose,
        expires_at=expires_at,
        now=now,
    )
    async with uow:
        await uow.consents.add(consent)
        uow.publish(consent.events, subject=iin)
        await uow.commit()
    return consent


async def revoke_consent(
    uow: IdentityUnitOfWork, call: RoutedCall, consent_id: str, now: datetime
) -> Consent:
    iin = _citizen_iin(call)
    async with uow:
        consent = await uow.consents.get(consent_id)
        if consent is None or consent.iin != iin:
            raise NotFound(f"you have no consent {consent_id}")
        if consent.revoke(now):
            await uow.consents.save(consent)
            uow.publish(consent.events, subject=iin)
            await uow.commit()
    return consent


async def list_consents(
    uow: IdentityUnitOfWork, call: RoutedCall, *, iin: str | None, agency: str | None
) -> list[Consent]:
    if call.is_citizen:
        if iin and iin != call.user:
            raise PermissionDenied("a citizen sees only their own consents")
        iin = _citizen_iin(call)
    else:
        # an agency sees the consents granted to it
        if agency and agency != call.client:
            raise PermissionDenied("an agency sees only the consents granted to it")
        agency = call.client
        if not iin:
            raise RuleViolation("name the person (iin)", errors={"iin": "required"})
    async with uow:
        return await uow.consents.list(iin=iin, agency=agency)


@dataclass
class ConsentCheck:
    allowed: bool
    consent: Consent | None


async def check_consent(
    uow: IdentityUnitOfWork,
    call: RoutedCall,
    *,
    iin: str,
    agency: str,
    category: ConsentCategory,
    now: datetime,
) -> ConsentCheck:
    if call.is_citizen and call.user != iin:
        raise PermissionDenied("a citizen may check only their own consents")
    async with uow:
        consents = await uow.consents.list(iin=iin, agency=agency)
    covering = [c for c in consents if c.covers(category, now)]
    best = max(covering, key=lambda c: c.expires_at, default=None)
    return ConsentCheck(allowed=best is not None, consent=best)


async def data_holders(
    uow: IdentityUnitOfWork, call: RoutedCall, iin: str, now: datetime
) -> list[dict[str, Any]]:
    """Who holds which of this citizen's data, and on what basis."""
    if call.is_citizen and call.user != iin:
        raise PermissionDenied("a citizen may see only who holds their own data")
    async with uow:
        if not await uow.persons.exists(iin):
            raise NotFound(f"no person with IIN {iin}")
        disclosed = await uow.persons.disclosures(iin)
        consents = await uow.consents.list(iin=iin)
        certificates = await uow.certificates.of_holder(iin)
    holders: list[dict[str, Any]] = [
        {"agency": agency, "categories": cats, "basis": "law", "detail": what}
        for agency, (what, cats) in HELD_BY_LAW.items()
    ]
    by_agency: dict[str, dict[str, Any]] = {}
    for row in disclosed:
        entry = by_agency.setdefault(
            row["agency"],
            {
                "agency": row["agency"],
                "categories": [],
                "basis": "received",
                "detail": "read the record from SDB Individuals through the gateway",
                "first_at": row["first_at"],
                "last_at": row["last_at"],
                "times": 0,
                "last_purpose": row["last_purpose"],
            },
        )
        entry["categories"].append(row["category"])
        entry["first_at"] = min(entry["first_at"], row["first_at"])
        if row["last_at"] >= entry["last_at"]:
            entry["last_at"], entry["last_purpose"] = row["last_at"], row["last_purpose"]
        entry["times"] = max(entry["times"], row["times"])
    holders.extend(by_agency.values())
    for c in consents:
        if c.is_active(now):
            holders.append(
                {
                    "agency": c.agency,
                    "categories": list(c.categories),
                    "basis": "consent",
                    "detail": c.purpose,
                    "consent_id": c.id,
                    "until": c.expires_at,
                }
            )
    good = [c for c in certificates if c.status == "good"]
    if good:
        holders.append(
            {
                "agency": "identity",
                "categories": ["certificates"],
                "basis": "law",
                "detail": f"national CA: {len(good)} valid certificate(s) of yours",
            }
        )
    return holders
