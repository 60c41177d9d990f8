"""Request and response shapes of the register's endpoints (public, directory, admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from egov_gateway.register.domain.catalogue import OperationInfo, RegisterSnapshot, Via
from egov_gateway.register.domain.model import (
    CompositeStep,
    Localized,
    Member,
    OperationKey,
    PublicService,
    SlaTerm,
)
from egov_gateway.register.domain.outages import OutageInterval
from meshkit.contracts.common import Tiyn
from meshkit.ids import BIN

Lang = Literal["kk", "ru", "en"]


class LocalizedText(BaseModel):
    kk: str = Field(min_length=1, max_length=500, examples=["Баланың тууын мемлекеттік тіркеу"])
    ru: str = Field(min_length=1, max_length=500, examples=["Регистрация рождения ребёнка"])
    en: str = Field(min_length=1, max_length=500, examples=["Registration of a birth"])

    @classmethod
    def of(cls, text: Localized) -> LocalizedText:
        return cls(kk=text.kk, ru=text.ru, en=text.en)

    def domain(self) -> Localized:
        return Localized(self.kk, self.ru, self.en)


class LongLocalizedText(LocalizedText):
    kk: str = Field(min_length=1, max_length=5000)
    ru: str = Field(min_length=1, max_length=5000)
    en: str = Field(min_length=1, max_length=5000)


class OperationRef(BaseModel):
    operation_id: str = Field(examples=["registry:POST /births"])
    agency: str
    method: str
    path: str

    @classmethod
    def of(cls, key: OperationKey) -> OperationRef:
        return cls(operation_id=key.id, agency=key.agency, method=key.method, path=key.path)


class Fee(BaseModel):
    amount_tiyn: int
    currency: Literal["KZT"] = "KZT"


class Sla(BaseModel):
    amount: int = Field(gt=0, le=10_000, examples=[5])
    unit: Literal["minutes", "hours", "working_days", "calendar_days"] = "working_days"


class Step(BaseModel):
    """A step of a composite service (see the register README for the expressions)."""

    name: str = Field(min_length=1, max_length=60, examples=["register_birth"])
    operation: str = Field(examples=["registry:POST /births"])
    input: dict[str, Any] = Field(default_factory=dict)
    completes_on: str | None = Field(
        default=None, examples=["kz.egov.registry.birth.registered.v1"]
    )
    compensation: str | None = None
    compensation_input: dict[str, Any] = Field(default_factory=dict)
    when: str | None = Field(
        default=None,
        max_length=200,
        description="an expression: the step is skipped when its value is absent or empty",
        examples=["$.payload.license"],
    )
    completes_when: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="answer fields → values meaning the awaited fact already happened",
        examples=[{"status": ["paid"]}],
    )
    wait_for: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="expressions identifying the awaited event, registered before the call",
        examples=[["$.steps.sale_contract.result.fee.invoice_id"]],
    )
    fails_when: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="answer fields → values meaning the agency refused: the step fails",
        examples=[{"status": ["blocked"]}],
    )
    title: LocalizedText | None = Field(
        default=None, description="the step as a citizen reads it on their application"
    )

    @classmethod
    def of(cls, st: CompositeStep) -> Step:
        return cls(
            name=st.name,
            operation=st.operation.id,
            input=st.input,
            completes_on=st.completes_on,
            compensation=st.compensation.id if st.compensation else None,
            compensation_input=st.compensation_input,
            when=st.when,
            completes_when=st.completes_when,
            wait_for=st.wait_for,
            fails_when=st.fails_when,
            title=LocalizedText.of(st.title) if st.title else None,
        )

    def domain(self) -> CompositeStep:
        return CompositeStep(
            name=self.name,
            operation=OperationKey.parse(self.operation),
            input=self.input,
            completes_on=self.completes_on,
            compensation=OperationKey.parse(self.compensation) if self.compensation else None,
            compensation_input=self.compensation_input,
            when=self.when,
            completes_when=self.completes_when,
            wait_for=self.wait_for,
            fails_when=self.fails_when,
            title=self.title.domain() if self.title else None,
        )


class ServiceOut(BaseModel):
    code: str = Field(examples=["rg-birth-registration"])
    name: str = Field(description="the name in the requested language")
    description: str = Field(description="the description in the requested language")
    names: LocalizedText
    descriptions: LongLocalizedText
    agency: str
    kind: Literal["simple", "composite"]
    operations: list[OperationRef]
    input_schema: dict[str, Any]
    fee: Fee
    sla: Sla
    channels: list[str]
    citizen_facing: bool
    public: bool = Field(description="callable without authentication")
    subject_param: str | None = Field(description="the parameter naming the data subject")
    recipients: list[str]
    steps: list[Step] = Field(default_factory=list)
    status: Literal["active", "withdrawn"]

    @classmethod
    def of(cls, s: PublicService, lang: str) -> ServiceOut:
        return cls(
            code=s.code,
            name=s.name.in_lang(lang),
            description=s.description.in_lang(lang),
            names=LocalizedText.of(s.name),
            descriptions=LongLocalizedText.of(s.description),
            agency=s.agency,
            kind=s.kind,
            operations=[OperationRef.of(op) for op in s.operations],
            input_schema=s.input_schema,
            fee=Fee(amount_tiyn=s.fee_tiyn),
            sla=Sla(amount=s.sla.amount, unit=s.sla.unit),
            channels=s.channels,
            citizen_facing=s.citizen_facing,
            public=s.public,
            subject_param=s.subject_param,
            recipients=s.recipients,
            steps=[Step.of(st) for st in s.steps],
            status=s.status,
        )


class ServicePage(BaseModel):
    items: list[ServiceOut]
    total: int = Field(description="services matching the query, over all pages")
    page: int
    page_size: int


class ServiceIn(BaseModel):
    """A public service as an operator defines it (PUT creates or replaces)."""

    model_config = ConfigDict(extra="forbid")

    agency: str = Field(examples=["registry"])
    kind: Literal["simple", "composite"] = "simple"
    names: LocalizedText
    descriptions: LongLocalizedText
    operations: list[str] = Field(
        default_factory=list,
        description="operation ids of a simple service (a composite's come from its steps)",
        examples=[["registry:POST /births"]],
    )
    input_schema: dict[str, Any] = Field(examples=[{"type": "object", "properties": {}}])
    fee_tiyn: Tiyn = 0
    sla: Sla
    channels: list[str] = Field(min_length=1, examples=[["portal", "mobile"]])
    citizen_facing: bool = True
    public: bool = False
    subject_param: str | None = None
    recipients: list[str] = Field(default_factory=lambda: ["individual"])
    steps: list[Step] = Field(default_factory=list)
    status: Literal["active", "withdrawn"] = "active"

    def domain(self, code: str) -> PublicService:
        steps = [st.domain() for st in self.steps]
        ops = (
            [st.operation for st in steps]
            if self.kind == "composite"
            else [OperationKey.parse(o) for o in self.operations]
        )
        return PublicService(
            code=code,
            agency=self.agency,
            kind=self.kind,
            name=self.names.domain(),
            description=self.descriptions.domain(),
            operations=ops,
            input_schema=self.input_schema,
            fee_tiyn=self.fee_tiyn,
            sla=SlaTerm(self.sla.amount, self.sla.unit),
            channels=self.channels,
            citizen_facing=self.citizen_facing,
            public=self.public,
            subject_param=self.subject_param,
            recipients=self.recipients,
            steps=steps,
            status=self.status,
        )


class XRoadId(BaseModel):
    instance: str = Field(examples=["KZ"])
    member_class: str = Field(examples=["GOV"])
    member_code: str = Field(description="the member's BIN")
    subsystem: str = Field(examples=["registry"])


class DocumentState(BaseModel):
    available: bool
    fetched_at: datetime | None
    operations: int = Field(description="operations of the member the exchange knows")


class AgencyOut(BaseModel):
    code: str
    name: str
    names: LocalizedText
    xroad: XRoadId
    status: Literal["active", "suspended"]
    provider: bool
    openapi: DocumentState

    @classmethod
    def of(cls, m: Member, snap: RegisterSnapshot, lang: str) -> AgencyOut:
        doc = snap.documents.get(m.code)
        return cls(
            code=m.code,
            name=m.name.in_lang(lang),
            names=LocalizedText.of(m.name),
            xroad=XRoadId(
                instance=m.instance,
                member_class=m.member_class,
                member_code=m.member_code,
                subsystem=m.code,
            ),
            status=m.status,
            provider=m.provider,
            openapi=DocumentState(
                available=bool(doc and doc.document),
                fetched_at=doc.fetched_at if doc else None,
                operations=len(snap.operations_of(m.code)),
            ),
        )


class AgencyList(BaseModel):
    items: list[AgencyOut]
    total: int


class MemberAdminOut(AgencyOut):
    base_urls: list[str]
    public_prefixes: list[str]
    declared_operations: list[str]

    @classmethod
    def full(cls, m: Member, snap: RegisterSnapshot) -> MemberAdminOut:
        base = AgencyOut.of(m, snap, "en").model_dump()
        return cls(
            **base,
            base_urls=m.base_urls,
            public_prefixes=m.public_prefixes,
            declared_operations=m.declared_operations,
        )


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,49}$", examples=["pension"])
    member_class: Literal["GOV", "COM", "ORG"] = "GOV"
    member_code: BIN
    names: LocalizedText
    base_urls: list[str] = Field(default_factory=list, examples=[["http://127.0.0.1:8006"]])
    provider: bool = True
    public_prefixes: list[str] = Field(default_factory=lambda: ["/public/"])
    declared_operations: list[str] = Field(default_factory=list, examples=[["GET /pensions/{iin}"]])

    def domain(self) -> Member:
        return Member(
            code=self.code,
            member_class=self.member_class,
            member_code=self.member_code,
            name=self.names.domain(),
            base_urls=self.base_urls,
            provider=self.provider,
            public_prefixes=self.public_prefixes,
            declared_operations=self.declared_operations,
        )


class MemberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_class: Literal["GOV", "COM", "ORG"] | None = None
    member_code: BIN | None = None
    names: LocalizedText | None = None
    base_urls: list[str] | None = None
    public_prefixes: list[str] | None = None
    declared_operations: list[str] | None = None

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in self.model_fields_set:
            v = getattr(self, k)
            if v is None:
                continue
            out["name" if k == "names" else k] = v.domain() if k == "names" else v
        return out


class StatusChange(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class GrantIn(BaseModel):
    client: str = Field(examples=["licensing"])
    operation_id: str = Field(examples=["registry:GET /legal-entities/{bin}"])


class GrantSet(BaseModel):
    operation_ids: list[str]


class GrantOut(BaseModel):
    client: str
    operation_id: str


class GrantList(BaseModel):
    items: list[GrantOut]
    total: int


class ClientOperation(OperationRef):
    summary: str | None
    service_codes: list[str]
    public: bool
    citizen_facing: bool
    via: Via

    @classmethod
    def from_info(cls, info: OperationInfo, via: Via) -> ClientOperation:
        return cls(
            **OperationRef.of(info.key).model_dump(),
            summary=info.summary,
            service_codes=list(info.service_codes),
            public=info.public,
            citizen_facing=info.citizen_facing,
            via=via,
        )


class ClientOperations(BaseModel):
    client: str
    items: list[ClientOperation]
    total: int


class Interval(BaseModel):
    started_at: datetime
    ended_at: datetime | None = Field(description="null while the outage lasts")
    reason: str | None = None

    @classmethod
    def of(cls, iv: OutageInterval) -> Interval:
        return cls(started_at=iv.started_at, ended_at=iv.ended_at, reason=iv.reason)


class AgencyOutage(BaseModel):
    agency: str
    total_seconds: float
    intervals: list[Interval]


class ServiceOutage(BaseModel):
    service_code: str
    total_seconds: float
    intervals: list[Interval]


class OutagesOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    total_seconds: float = Field(
        description="total duration of technical failures: the sum over agencies"
    )
    agencies: list[AgencyOutage]
    services: list[ServiceOutage]


class MemberHealth(BaseModel):
    agency: str
    status: str
    document_fetched_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    operations: int
    published_operations: int
    unmapped_operations: list[str] = Field(
        description="operations the register relies on that the fetched OpenAPI lacks"
    )
    unregistered_operations: list[str] = Field(
        description="published operations no public service runs (informational)"
    )


class RegisterHealth(BaseModel):
    version: int
    ok: bool = Field(
        description="every provider's document fetched, nothing unmapped, no contract drift"
    )
    members: list[MemberHealth]
    contract_drift: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="active simple services whose form, mapped onto the operation, does not "
        "fit the agency's published request: service → field → what differs",
    )
    contract_pending: list[str] = Field(
        default_factory=list,
        description="services not checked yet: their agency's document is not fetched",
    )


class RefreshResult(BaseModel):
    agency: str
    ok: bool
    changed: bool
    error: str | None
    unmapped_operations: list[str]
