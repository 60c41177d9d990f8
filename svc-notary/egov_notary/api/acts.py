"""Notarial acts (routed: ``/x/notary/acts``)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Body, status

from egov_notary.api.deps import ActId, ActIdOrNumber, Agencies, Caller, Fees, PathParamsFirst, UoW
from egov_notary.api.schemas import (
    ActContentOut,
    ActDraft,
    ActOut,
    ActSummary,
    PropertySaleDraft,
    RevokeIn,
    SignatureIn,
)
from egov_notary.domain.acts import NotarialAct
from egov_notary.service_layer import services
from meshkit.errors import RuleViolation
from meshkit.ids import IIN
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(
    prefix="/acts",
    tags=["notarial acts"],
    responses=PROBLEM_RESPONSES,
    dependencies=[PathParamsFirst],
)

_ACT_RESPONSES = {
    **PROBLEM_RESPONSES,
    503: {**PROBLEM_RESPONSES[422], "description": "an agency the act depends on is unavailable"},
}


async def _out(uow: UoW, act: NotarialAct, caller: Caller) -> ActOut:
    _, notary = await services.get_act(uow, act.id, actor=caller)
    return ActOut.of(act, notary)


@router.post(
    "",
    response_model=ActOut,
    status_code=status.HTTP_201_CREATED,
    responses=_ACT_RESPONSES,
    summary="Draft a notarial act (a notary; a citizen applying as a party, naming the notary; "
    "an agency on a notary's behalf); checks run at once",
)
async def draft_act(
    body: ActDraft, uow: UoW, caller: Caller, agencies: Agencies, fees: Fees
) -> ActOut:
    if isinstance(body, PropertySaleDraft) and body.sellers is None:
        owners = await services.owners_as_sellers(agencies, body.cadastral_number, actor=caller)
        terms = body.to_terms(date.today(), sellers=owners)
    else:
        terms = body.to_terms(date.today())
    act, notary = await services.draft_act(
        uow,
        agencies,
        terms=terms,
        notary_iin=body.notary_iin,
        actor=caller,
        fees=fees,
    )
    return ActOut.of(act, notary)


@router.get("", response_model=list[ActSummary], summary="Acts of a person (notary or party)")
async def list_acts(uow: UoW, caller: Caller, iin: IIN | None = None) -> list[ActSummary]:
    """A citizen's own acts by default; an agency names the person (``iin``)."""
    who = iin or caller.user
    if who is None:
        raise RuleViolation("name the person whose acts to list", errors={"iin": "required"})
    acts = await services.acts_of(uow, who, actor=caller)
    return [
        ActSummary(
            id=a.id,
            number=a.number,
            kind=a.kind,
            status=a.status.value,
            notary_iin=a.notary_iin,
            created_at=a.created_at,
            registered_at=a.registered_at,
        )
        for a in acts
    ]


@router.get("/{id_or_number}", response_model=ActOut, summary="An act by its id or number")
async def get_act(id_or_number: ActIdOrNumber, uow: UoW, caller: Caller) -> ActOut:
    act, notary = await services.get_act(uow, id_or_number, actor=caller)
    return ActOut.of(act, notary)


@router.get(
    "/{act_id}/content",
    response_model=ActContentOut,
    summary="The canonical content every signature covers, and its SHA-256",
)
async def act_content(act_id: ActId, uow: UoW, caller: Caller) -> ActContentOut:
    act, _ = await services.get_act(uow, act_id, actor=caller)
    return ActContentOut(
        act_id=act.id,
        content=act.content,
        canonical=act.canonical_content.decode(),
        sha256=act.content_sha256,
        sign_payload={"sha256": act.content_sha256},
    )


@router.post(
    "/{act_id}/checks",
    response_model=ActOut,
    responses=_ACT_RESPONSES,
    summary="Run the checks (identity, registry) again and issue the fee invoice",
)
async def run_checks(
    act_id: ActId, uow: UoW, caller: Caller, agencies: Agencies, fees: Fees
) -> ActOut:
    act = await services.run_checks(uow, agencies, act_id, actor=caller, fees=fees)
    return await _out(uow, act, caller)


@router.post(
    "/{act_id}/signatures",
    response_model=ActOut,
    responses=_ACT_RESPONSES,
    summary="A party signs the act (JWS verified by the national CA)",
)
async def sign_as_party(
    act_id: ActId, body: SignatureIn, uow: UoW, caller: Caller, agencies: Agencies
) -> ActOut:
    act = await services.sign_as_party(uow, agencies, act_id, jws=body.jws, actor=caller)
    return await _out(uow, act, caller)


@router.post(
    "/{act_id}/notary-signature",
    response_model=ActOut,
    responses=_ACT_RESPONSES,
    summary="The notary signs last; the act registers once the fee is paid",
)
async def sign_as_notary(
    act_id: ActId, body: SignatureIn, uow: UoW, caller: Caller, agencies: Agencies
) -> ActOut:
    act = await services.sign_as_notary(uow, agencies, act_id, jws=body.jws, actor=caller)
    return await _out(uow, act, caller)


@router.post(
    "/{act_id}/register",
    response_model=ActOut,
    summary="Register now; refuses with every reason the act is not registrable yet",
)
async def register_act(act_id: ActId, uow: UoW, caller: Caller) -> ActOut:
    act = await services.register_act(uow, act_id, actor=caller)
    return await _out(uow, act, caller)


@router.post(
    "/{act_id}/revoke",
    response_model=ActOut,
    responses=_ACT_RESPONSES,
    summary="Withdraw an unregistered act (the notary; the principal, a buyer or seller, the "
    "applicant) — its unpaid fee invoice is cancelled — or revoke a registered power of "
    "attorney (principal or notary)",
)
async def revoke_act(
    act_id: ActId, uow: UoW, caller: Caller, agencies: Agencies, body: RevokeIn = Body(...)
) -> ActOut:
    act = await services.revoke_act(uow, agencies, act_id, reason=body.reason, actor=caller)
    return await _out(uow, act, caller)
