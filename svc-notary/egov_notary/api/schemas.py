"""Request and response shapes of svc-notary's HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field

from egov_notary.domain.acts import NotarialAct
from egov_notary.domain.notaries import Notary, NotaryStatus
from egov_notary.domain.terms import (
    CopyCertificationTerms,
    PowerOfAttorneyTerms,
    PropertySaleTerms,
    ShareHolding,
    Terms,
)
from meshkit.contracts.common import Share, Tiyn
from meshkit.ids import IIN

CADASTRAL = r"^[0-9]{2}:[0-9]{3}:[0-9]{3}:[0-9]{1,6}(:[0-9]{1,6})?$"


# -- notaries ------------------------------------------------------------------------------
class NotaryCreate(BaseModel):
    iin: IIN
    full_name: str = Field(min_length=3, max_length=200, examples=["Жұмабекова Әсел Қайратқызы"])
    license_number: str = Field(
        min_length=3, max_length=40, pattern=r"^[0-9A-Za-zА-Яа-я./-]+$", examples=["0001234"]
    )
    region: str = Field(min_length=2, max_length=100, examples=["Астана"])


class NotaryStatusChange(BaseModel):
    status: NotaryStatus
    reason: str | None = Field(default=None, max_length=500)


class NotaryOut(BaseModel):
    iin: str
    full_name: str
    license_number: str
    region: str
    status: NotaryStatus
    status_reason: str | None = None
    registered_at: datetime

    @classmethod
    def of(cls, n: Notary) -> NotaryOut:
        return cls(
            iin=n.iin,
            full_name=n.full_name,
            license_number=n.license_number,
            region=n.region,
            status=n.status,
            status_reason=n.status_reason,
            registered_at=n.registered_at,
        )


class NotaryPage(BaseModel):
    items: list[NotaryOut]
    total: int
    limit: int
    offset: int


# -- drafting acts ---------------------------------------------------------------------------
class _Draft(BaseModel):
    notary_iin: IIN | None = Field(
        default=None,
        description="the notary performing the act; a notary calling as a citizen may omit it",
    )


class PowerOfAttorneyDraft(_Draft):
    kind: Literal["power_of_attorney"]
    principal_iin: IIN
    attorney_iin: IIN
    powers: list[Annotated[str, Field(min_length=3, max_length=500)]] = Field(
        min_length=1,
        max_length=50,
        examples=[["represent the principal before the real estate registry"]],
    )
    valid_from: date | None = Field(default=None, description="default: today")
    valid_until: date
    may_delegate: bool = False

    def to_terms(self, today: date) -> Terms:
        return PowerOfAttorneyTerms(
            principal_iin=self.principal_iin,
            attorney_iin=self.attorney_iin,
            powers=tuple(p.strip() for p in self.powers),
            valid_from=self.valid_from or today,
            valid_until=self.valid_until,
            may_delegate=self.may_delegate,
        )


class HolderIn(BaseModel):
    """A seller or buyer. Also accepts the mesh's ``Holder`` shape (``id`` for the IIN), so
    the owners from registry's ``PropertyOut`` can be passed as they are (as *Buy a home*
    does: its sellers are the property's owners)."""

    iin: IIN = Field(validation_alias=AliasChoices("iin", "id"))
    share: Share


class PropertySaleDraft(_Draft):
    kind: Literal["property_sale"]
    cadastral_number: str = Field(pattern=CADASTRAL, examples=["21:320:101:234"])
    sellers: list[HolderIn] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="omitted: the whole object is sold by its current owners with their "
        "shares, as the real estate register holds them",
    )
    buyers: list[HolderIn] = Field(min_length=1, max_length=20)
    price_tiyn: Tiyn = Field(gt=0, examples=[3_500_000_000])

    def to_terms(self, today: date, sellers: tuple[ShareHolding, ...] | None = None) -> Terms:
        """``sellers``: the registry's owners when the draft names none."""
        named = tuple(ShareHolding(h.iin, h.share.fraction) for h in self.sellers or ())
        return PropertySaleTerms(
            cadastral_number=self.cadastral_number,
            sellers=named if self.sellers is not None else (sellers or ()),
            buyers=tuple(ShareHolding(h.iin, h.share.fraction) for h in self.buyers),
            price_tiyn=self.price_tiyn,
        )


class CopyCertificationDraft(_Draft):
    kind: Literal["copy_certification"]
    applicant_iin: IIN
    document_title: str = Field(min_length=1, max_length=300, examples=["Диплом бакалавра"])
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the document")
    pages: int = Field(ge=1, le=1000)

    def to_terms(self, today: date) -> Terms:
        return CopyCertificationTerms(
            applicant_iin=self.applicant_iin,
            document_title=self.document_title,
            document_sha256=self.document_sha256,
            pages=self.pages,
        )


ActDraft = Annotated[
    PowerOfAttorneyDraft | PropertySaleDraft | CopyCertificationDraft,
    Field(discriminator="kind"),
]


class SignatureIn(BaseModel):
    jws: str = Field(
        min_length=20,
        max_length=40_000,
        description="compact JWS with x5c whose payload is the act's canonical content, or "
        '{"sha256": <content digest>} (each optionally with iat)',
    )


class RevokeIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, examples=["the principal revokes it"])


# -- acts out ------------------------------------------------------------------------------
class PartyOut(BaseModel):
    iin: str
    role: str
    name: str | None = None
    signs: bool
    signed: bool


class SignatureOut(BaseModel):
    signer_iin: str
    role: str
    signed_at: datetime | None
    accepted_at: datetime
    certificate_serial: str | None
    content_sha256: str


class StepOut(BaseModel):
    at: datetime
    step: str
    status: str
    actor: str
    reason: str | None = None


class FeeOut(BaseModel):
    amount_tiyn: int
    currency: Literal["KZT"] = "KZT"
    invoice_id: str | None
    paid_at: datetime | None


class ActOut(BaseModel):
    id: str
    number: str | None
    kind: str
    status: str
    status_reason: str | None
    awaiting: list[str] = Field(description="what registration still waits for")
    notary: NotaryOut
    parties: list[PartyOut]
    terms: dict[str, Any]
    property_address: str | None = None
    content_sha256: str
    fee: FeeOut
    signatures: list[SignatureOut]
    verification_code: str | None = Field(
        default=None, description="shown to the notary, the parties and agencies once registered"
    )
    created_at: datetime
    registered_at: datetime | None = None
    executed_at: datetime | None = None
    rejected_at: datetime | None = None
    revoked_at: datetime | None = None
    history: list[StepOut]

    @classmethod
    def of(cls, act: NotarialAct, notary: Notary) -> ActOut:
        signing = {p.iin for p in act.signatories}
        return cls(
            id=act.id,
            number=act.number,
            kind=act.kind,
            status=act.status.value,
            status_reason=act.status_reason,
            awaiting=act.awaiting,
            notary=NotaryOut.of(notary),
            parties=[
                PartyOut(
                    iin=p.iin,
                    role=p.role,
                    name=act.party_names.get(p.iin),
                    signs=p.iin in signing,
                    signed=p.iin in signing and p not in act.missing_party_signatures,
                )
                for p in act.parties
            ],
            terms=act.terms.to_content(),
            property_address=act.property_address,
            content_sha256=act.content_sha256,
            fee=FeeOut(
                amount_tiyn=act.fee_tiyn, invoice_id=act.invoice_id, paid_at=act.fee_paid_at
            ),
            signatures=[
                SignatureOut(
                    signer_iin=s.signer_iin,
                    role=s.role,
                    signed_at=s.signed_at,
                    accepted_at=s.accepted_at,
                    certificate_serial=s.certificate_serial,
                    content_sha256=s.content_sha256,
                )
                for s in act.signatures
            ],
            verification_code=act.verification_code,
            created_at=act.created_at,
            registered_at=act.registered_at,
            executed_at=act.executed_at,
            rejected_at=act.rejected_at,
            revoked_at=act.revoked_at,
            history=[
                StepOut(at=s.at, step=s.step, status=s.status.value, actor=s.actor, reason=s.reason)
                for s in act.steps
            ],
        )


class ActSummary(BaseModel):
    id: str
    number: str | None
    kind: str
    status: str
    notary_iin: str
    created_at: datetime
    registered_at: datetime | None


class ActContentOut(BaseModel):
    act_id: str
    content: dict[str, Any] = Field(description="the act's legal content")
    canonical: str = Field(description="the exact bytes (UTF-8) every signature covers")
    sha256: str = Field(description="SHA-256 (hex) of the canonical bytes")
    sign_payload: dict[str, str] = Field(
        description='a payload to sign instead of the content itself: {"sha256": …}'
    )


# -- public verification ---------------------------------------------------------------------
class PublicParty(BaseModel):
    role: str
    name: str | None
    iin_masked: str


class PublicNotary(BaseModel):
    full_name: str
    license_number: str
    region: str


class PublicActOut(BaseModel):
    number: str
    kind: str
    status: str = Field(description="registered, executed, rejected, revoked or expired")
    notary: PublicNotary
    parties: list[PublicParty]
    what: dict[str, Any]
    registered_at: datetime | None
    executed_at: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    content_sha256: str


def mask_iin(iin: str) -> str:
    return f"{iin[:4]}******{iin[-2:]}"


def public_view(act: NotarialAct, notary: Notary, status: str) -> PublicActOut:
    terms = act.terms
    what: dict[str, Any]
    if isinstance(terms, PowerOfAttorneyTerms):
        what = {
            "powers": list(terms.powers),
            "valid_from": terms.valid_from.isoformat(),
            "valid_until": terms.valid_until.isoformat(),
            "may_delegate": terms.may_delegate,
        }
    elif isinstance(terms, PropertySaleTerms):
        what = {
            "cadastral_number": terms.cadastral_number,
            "address": act.property_address,
            "share_sold": {"num": terms.share_sold.numerator, "den": terms.share_sold.denominator},
            "price_tiyn": terms.price_tiyn,
            "currency": "KZT",
        }
    else:
        what = {
            "document_title": terms.document_title,
            "document_sha256": terms.document_sha256,
            "pages": terms.pages,
        }
    assert act.number is not None
    return PublicActOut(
        number=act.number,
        kind=act.kind,
        status=status,
        notary=PublicNotary(
            full_name=notary.full_name, license_number=notary.license_number, region=notary.region
        ),
        parties=[
            PublicParty(role=p.role, name=act.party_names.get(p.iin), iin_masked=mask_iin(p.iin))
            for p in act.parties
        ],
        what=what,
        registered_at=act.registered_at,
        executed_at=act.executed_at,
        revoked_at=act.revoked_at,
        revocation_reason=act.status_reason if act.revoked_at else None,
        content_sha256=act.content_sha256,
    )
