"""Use cases: issue signed certificates and verify them (by number or by the document)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from egov_registry.domain.certificates import (
    TITLES,
    Certificate,
    CertificateKind,
    address_of_entity,
    address_of_person,
    birth_content,
    certificate_number,
    digest,
    ownership_content,
    real_estate_content,
    registration_content,
    require_subject_fits,
)
from egov_registry.domain.common import Actor, kz_today
from egov_registry.service_layer.ports import IdentityDirectory, Signer, Trust
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.contracts.registry import CertificateIssued, CertificateVerification
from meshkit.documents import RevocationCheck, verify_document
from meshkit.errors import NotFound, PermissionDenied, RuleViolation
from meshkit.ids import is_valid_bin

ISSUER = "registry"


async def issue_certificate(
    uow: RegistryUnitOfWork,
    identity: IdentityDirectory,
    signer: Callable[[], Signer],
    actor: Actor,
    *,
    kind: CertificateKind,
    subject: str,
    validity: timedelta,
    cadastral_number: str | None = None,
) -> Certificate:
    require_subject_fits(kind, subject)
    subject_is_entity = is_valid_bin(subject) and kind != "birth"
    person = None
    if kind == "birth":
        pass  # the birth act names the child and the parents (below): no identity lookup
    elif not subject_is_entity:
        if actor.is_citizen and actor.user != subject:
            raise PermissionDenied("a citizen may only request certificates about themselves")
        # a certificate names a person SDB Individuals knows (and shows their name)
        person = await identity.person(
            subject, purpose=f"certificate ({kind}): identify the subject", on_behalf_of=actor.user
        )
        if person is None:
            raise RuleViolation(
                f"{subject} is not registered in SDB Individuals",
                errors={"subject": "not registered in SDB Individuals"},
            )
    now = datetime.now(UTC)
    async with uow:
        entity = await uow.entities.get(subject) if subject_is_entity else None
        birth = await uow.births.by_child(subject) if kind == "birth" else None
        if kind == "birth":
            if birth is None:
                raise NotFound(f"the registry has no birth act of {subject}")
            if actor.is_citizen and actor.user not in {
                subject,
                birth.mother_iin,
                birth.father_iin,
            }:
                raise PermissionDenied(
                    "a birth certificate is issued to the person or to a parent on the act"
                )
        elif (
            actor.is_citizen
            and subject != actor.user
            and (entity is None or not entity.is_managed_by(actor))
        ):
            raise PermissionDenied(
                "a citizen may only request certificates about themselves or an entity "
                "they direct or founded"
            )
        if subject_is_entity and entity is None:
            raise NotFound(f"there is no legal entity {subject}")
        content: dict[str, Any]
        if birth is not None:
            content = birth_content(birth)
        elif kind in ("real_estate_presence", "real_estate_absence"):
            content = real_estate_content(kind, subject, await uow.properties.held_by(subject), now)
            content["holder_name"] = (
                entity.name_kk if entity is not None else person.full_name if person else None
            )
        elif kind == "property_ownership":
            prop = await uow.properties.get(cadastral_number) if cadastral_number else None
            content = ownership_content(subject, cadastral_number, prop, now)
            content["holder_name"] = (
                entity.name_kk if entity is not None else person.full_name if person else None
            )
        elif kind == "address":
            if entity is not None:
                content = address_of_entity(entity)
            else:
                assert person is not None
                content = address_of_person(person)
        else:
            assert entity is not None
            content = registration_content(entity)

        year = kz_today(now).year
        seq = await uow.counters.allocate(f"certificate:{year}")
        number = certificate_number(year, seq)
        expires_at = (now + validity).replace(microsecond=0)
        issued_at = now.replace(microsecond=0)
        payload = {
            "iss": ISSUER,
            "sub": subject,
            "number": number,
            "kind": kind,
            "title": TITLES[kind],
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
            "issued_on": kz_today(now).isoformat(),
            "data": content,
        }
        document = signer().sign(payload)
        cert = Certificate(
            number=number,
            kind=kind,
            subject_id=subject,
            issued_at=issued_at,
            expires_at=expires_at,
            document=document,
            digest=digest(document),
            requested_by=actor.user if actor.is_citizen and actor.user else actor.scope,
        )
        await uow.certificates.add(cert)
        uow.emit(
            CertificateIssued(number=number, kind=kind, subject_id=subject, expires_at=expires_at),
            subject=number,
        )
        await uow.commit()
    return cert


async def certificate(uow: RegistryUnitOfWork, actor: Actor, number: str) -> Certificate:
    async with uow:
        cert = await uow.certificates.get(number)
        if cert is None:
            raise NotFound(f"there is no certificate {number}")
        if actor.is_citizen and cert.subject_id != actor.user:
            entity = await uow.entities.get(cert.subject_id)
            if entity is None or not entity.is_managed_by(actor):
                raise PermissionDenied("a citizen may only read their own certificates")
    return cert


async def certificate_status(uow: RegistryUnitOfWork, number: str) -> Certificate:
    async with uow:
        cert = await uow.certificates.get(number)
    if cert is None:
        raise NotFound(f"the registry issued no certificate {number}")
    return cert


async def check_by_number(
    uow: RegistryUnitOfWork,
    trust: Trust,
    revocation: RevocationCheck | None,
    number: str,
) -> tuple[Certificate, CertificateVerification]:
    """A certificate by its number (as printed, or read from its QR code) and the verdict on
    the document the registry keeps of it: the same checks as a presented document."""
    cert = await certificate_status(uow, number)
    return cert, await verify(uow, trust, revocation, cert.document)


def structural_flaw(document: str) -> str | None:
    """Why ``document`` cannot be a signed certificate at all (no JWS with an ``x5c`` chain)."""
    try:
        header = jwt.get_unverified_header(document)
    except jwt.PyJWTError:
        return "not a signed document (malformed JWS)"
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c:
        return "the document carries no certificate (x5c)"
    return None


async def verify(
    uow: RegistryUnitOfWork,
    trust: Trust,
    revocation: RevocationCheck | None,
    document: str,
) -> CertificateVerification:
    """Signature, chain to the national CA, revocation — and that the registry issued exactly
    this document (its digest is on record) and it has not expired."""
    malformed = structural_flaw(document)
    if malformed is not None:
        # decided without the national CA: garbage is invalid even while the CA is unreachable
        return CertificateVerification(valid=False, reason=malformed)
    checked = await verify_document(document, roots=await trust.roots(), revocation=revocation)
    payload = checked.payload or {}
    number = payload.get("number") if isinstance(payload.get("number"), str) else None
    if not checked.valid:
        return CertificateVerification(
            valid=False, reason=checked.reason, number=number, signer=checked.signer
        )
    cert = None
    if number is not None:
        async with uow:
            cert = await uow.certificates.get(number)
    if cert is None:
        return CertificateVerification(
            valid=False,
            reason=f"the registry has no record of certificate {number}",
            number=number,
            signer=checked.signer,
        )
    out = CertificateVerification(
        valid=True,
        number=cert.number,
        kind=cert.kind,
        subject=cert.subject_id,
        issued_at=cert.issued_at,
        expires_at=cert.expires_at,
        signer=checked.signer,
    )
    if digest(document) != cert.digest:
        return out.model_copy(
            update={"valid": False, "reason": "this is not the document the registry issued"}
        )
    if cert.status_at(datetime.now(UTC)) == "expired":
        return out.model_copy(
            update={"valid": False, "reason": f"expired at {cert.expires_at.isoformat()}"}
        )
    return out
