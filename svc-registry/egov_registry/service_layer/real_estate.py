"""Use cases: real-estate objects, owners, encumbrances, and transfers by notarial sale."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import structlog

from egov_registry.domain.common import Actor
from egov_registry.domain.real_estate import (
    Encumbrance,
    EncumbranceKind,
    Property,
    Stake,
    TransferRefused,
)
from egov_registry.service_layer.unit_of_work import RegistryUnitOfWork
from meshkit.contracts.common import Holder, Share
from meshkit.contracts.notary import ActRegistered
from meshkit.contracts.registry import PropertyTransferred, PropertyTransferRejected
from meshkit.errors import Conflict, NotFound, PermissionDenied
from meshkit.ids import is_valid_bin

log = structlog.get_logger("registry.real_estate")


@dataclass(frozen=True)
class NewProperty:
    cadastral_number: str
    kind: str
    address: str
    area_m2: Decimal
    owners: list[Stake]


@dataclass(frozen=True)
class NewEncumbrance:
    kind: EncumbranceKind
    imposed_by: str | None
    basis: str | None
    lifts_at: datetime | None


async def register_property(uow: RegistryUnitOfWork, actor: Actor, cmd: NewProperty) -> Property:
    actor.require_agency("register a real-estate object")
    prop = Property.register(
        cadastral_number=cmd.cadastral_number,
        kind=cmd.kind,
        address=cmd.address,
        area_m2=cmd.area_m2,
        owners=cmd.owners,
        now=datetime.now(UTC),
    )
    async with uow:
        if await uow.properties.exists(prop.cadastral_number):
            raise Conflict(f"{prop.cadastral_number} is already registered")
        await uow.properties.add(prop)
        await uow.commit()
    return prop


async def _may_see_holder(uow: RegistryUnitOfWork, actor: Actor, holder: str) -> bool:
    """A citizen sees their own holdings and those of an entity they direct or founded."""
    if not actor.is_citizen or holder == actor.user:
        return True
    if is_valid_bin(holder):
        entity = await uow.entities.get(holder)
        return entity is not None and entity.is_managed_by(actor)
    return False


async def _holds_encumbrance(uow: RegistryUnitOfWork, actor: Actor, prop: Property) -> bool:
    """The citizen (by IIN) or an entity they direct (by BIN) holds an encumbrance in force."""
    for enc in prop.active_encumbrances(datetime.now(UTC)):
        if enc.imposed_by == actor.user:
            return True
        if is_valid_bin(enc.imposed_by):
            entity = await uow.entities.get(enc.imposed_by)
            if entity is not None and entity.director_iin == actor.user:
                return True
    return False


async def property_by_number(
    uow: RegistryUnitOfWork, actor: Actor, cadastral_number: str
) -> Property:
    """Agencies; a citizen who owns it (or directs/founded an entity that does) or holds an
    encumbrance in force on it (or directs the entity that does)."""
    async with uow:
        prop = await uow.properties.get(cadastral_number)
        if prop is None:
            raise NotFound(f"there is no real-estate object {cadastral_number}")
        if actor.is_citizen:
            for holder in prop.owners:
                if await _may_see_holder(uow, actor, holder):
                    return prop
            if await _holds_encumbrance(uow, actor, prop):
                return prop
            raise PermissionDenied(
                "a citizen may only read the objects they own or hold an encumbrance on"
            )
    return prop


async def properties_of(uow: RegistryUnitOfWork, actor: Actor, holder: str) -> list[Property]:
    async with uow:
        if not await _may_see_holder(uow, actor, holder):
            raise PermissionDenied("a citizen may only list their own real estate")
        return await uow.properties.held_by(holder)


async def impose_encumbrance(
    uow: RegistryUnitOfWork, actor: Actor, cadastral_number: str, cmd: NewEncumbrance
) -> Encumbrance:
    actor.require_agency("impose an encumbrance")
    async with uow:
        prop = await uow.properties.get(cadastral_number, for_update=True)
        if prop is None:
            raise NotFound(f"there is no real-estate object {cadastral_number}")
        enc = prop.impose(
            encumbrance_id=str(uuid.uuid4()),
            kind=cmd.kind,
            imposed_by=cmd.imposed_by or actor.client,
            basis=cmd.basis,
            lifts_at=cmd.lifts_at,
            now=datetime.now(UTC),
        )
        await uow.properties.add_encumbrance(enc)
        await uow.commit()
    return enc


async def release_encumbrance(
    uow: RegistryUnitOfWork, actor: Actor, encumbrance_id: str, reason: str | None
) -> Encumbrance:
    actor.require_agency("release an encumbrance")
    async with uow:
        enc = await uow.properties.get_encumbrance(encumbrance_id)
        if enc is None:
            raise NotFound(f"there is no encumbrance {encumbrance_id}")
        enc.release(reason, datetime.now(UTC))
        await uow.properties.save_release(enc)
        await uow.commit()
    return enc


def _holders(stakes: list[Stake]) -> list[Holder]:
    return [Holder(id=s.holder, share=Share.of(s.share)) for s in stakes]


async def apply_sale(uow: RegistryUnitOfWork, act: ActRegistered) -> None:
    """Apply a registered notarial sale inside the consumer's unit of work.

    Idempotent by act number (on top of the inbox's event-id dedup): a replayed or
    re-published act is decided once. The change and its event commit together.
    """
    if act.kind != "property_sale":
        return
    if await uow.transfers.decided(act.act_number):
        log.info("transfer.already_decided", act_number=act.act_number)
        return
    cadastral_number = act.cadastral_number or ""
    sellers = [Stake(h.id, h.share.fraction) for h in act.sellers]
    buyers = [Stake(h.id, h.share.fraction) for h in act.buyers]
    prop = await uow.properties.get(cadastral_number, for_update=True) if cadastral_number else None
    try:
        if prop is None:
            raise TransferRefused(
                f"there is no real-estate object {cadastral_number}"
                if cadastral_number
                else "the act names no cadastral number"
            )
        prop.transfer(sellers, buyers, datetime.now(UTC))
    except TransferRefused as refused:
        await uow.transfers.record(act.act_number, cadastral_number, "rejected", refused.reason)
        uow.emit(
            PropertyTransferRejected(
                cadastral_number=cadastral_number,
                act_number=act.act_number,
                reason=refused.reason,
            ),
            subject=cadastral_number or act.act_number,
        )
        log.info("transfer.rejected", act_number=act.act_number, reason=refused.reason)
        return
    await uow.properties.save_owners(prop)
    await uow.transfers.record(act.act_number, cadastral_number, "transferred", None)
    uow.emit(
        PropertyTransferred(
            cadastral_number=cadastral_number,
            act_number=act.act_number,
            sellers=_holders(sellers),
            buyers=_holders(buyers),
            owners_after=_holders(prop.stakes()),
        ),
        subject=cadastral_number,
    )
    log.info("transfer.applied", act_number=act.act_number, cadastral_number=cadastral_number)
