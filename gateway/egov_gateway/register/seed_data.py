"""The register's seed as data: members, public services and default grants, read from
``shared/meshkit/reference/register/*.yaml`` and validated here (pydantic).

One file per agency (``identity.yaml`` … ``notary.yaml``: the member, its contract operations
and the simple services it owns; ``licensing.yaml`` also maps the register's licence services
onto E-Licensing's catalogue), ``composites.yaml`` (the composite services, each owned by its
lead agency), ``gateway.yaml`` (the gateway as a member, the default grants) and
``fragments.yaml`` (the form fragments the services share). A form's ``{$ref: <fragment>}`` is
inlined here (other keys beside it are added to the fragment), so every stored
``input_schema`` is self-contained. Fees are in MRP (``fee_mrp``), turned into tiyn with the
MRP of the seeding day by the caller.

A defect stops the gateway at start (:class:`RegisterDataError`, a
:class:`meshkit.reference.ReferenceDataError`) naming the file, the service and the field.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated, Any, Literal, TypeVar

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from egov_gateway.register.domain.model import (
    Channel,
    CompositeStep,
    Localized,
    OperationKey,
    PublicService,
    SlaTerm,
    SlaUnit,
)
from meshkit.reference import ReferenceDataError, licence_catalogue

__all__ = ["AGENCIES", "RegisterData", "RegisterDataError", "load_register_data", "register_data"]

#: the providers, in the register's order; each has ``register/<agency>.yaml``
AGENCIES = ("identity", "registry", "licensing", "payments", "notary")
#: the prefix of the codes of the services each file owns
PREFIXES = {
    "identity": "id-",
    "registry": "rg-",
    "licensing": "lc-",
    "payments": "pm-",
    "notary": "nt-",
    "composites": "cx-",
}
Agency = Literal["identity", "registry", "licensing", "payments", "notary"]
Recipient = Literal["individual", "legal_entity"]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,49}$")]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
#: an operation of the file's own agency: ``GET /persons/{iin}``
LocalOp = Annotated[str, Field(pattern=r"^(GET|POST|PUT|PATCH|DELETE) /\S*$")]
#: an operation of any agency: ``identity:GET /persons/{iin}``
_AGENCY_OP = r"^[a-z][a-z0-9-]{1,49}:(GET|POST|PUT|PATCH|DELETE) /\S*$"
AgencyOp = Annotated[str, Field(pattern=_AGENCY_OP)]
_PAYLOAD = re.compile(r"^\$\.payload\.([A-Za-z0-9_]+)")
_STEP = re.compile(r"^\$\.steps\.([A-Za-z_][A-Za-z0-9_]*)\.")
_PARAM = re.compile(r"\{([^}]+)\}")
#: what a step may read (the process engine's expressions, register/domain/rules.py)
_EXPRESSION = re.compile(
    r"^\$\.(payload(\.[A-Za-z0-9_]+)+|applicant|application_id|today_plus_days\.[0-9]{1,3}"
    r"|person\.[A-Za-z0-9_.]+|steps\.[A-Za-z_][A-Za-z0-9_]*\.(result|event)(\.[A-Za-z0-9_]+)*)$"
)


class RegisterDataError(ReferenceDataError):
    """A register data file is missing, not YAML, or does not match its schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Texts(_Strict):
    """A text in the register's three languages; none may be blank."""

    kk: str = Field(min_length=1, max_length=2000)
    ru: str = Field(min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)

    @field_validator("kk", "ru", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text is blank")
        return value

    def localized(self) -> Localized:
        return Localized(self.kk, self.ru, self.en)


class BinSeed(_Strict):
    """The member's BIN: registered in year/month, this serial (``meshkit.ids.next_bin``)."""

    year: int = Field(ge=1991, le=2100)
    month: int = Field(ge=1, le=12)
    serial: int = Field(ge=1, le=99_999)


class MemberData(_Strict):
    name: Texts
    bin: BinSeed
    port: int | None = Field(default=None, ge=1, le=65_535, description="local default URL")
    public_prefixes: list[Annotated[str, Field(pattern=r"^/")]] = ["/public/"]
    operations: list[LocalOp] = []

    @field_validator("operations")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        twice = sorted({op for op in value if value.count(op) > 1})
        if twice:
            raise ValueError(f"listed twice: {twice}")
        return value


class Sla(_Strict):
    amount: int = Field(ge=1, le=1000)
    unit: SlaUnit


class Form(_Strict):
    """The application form: an object of ``properties`` (JSON Schema, fragments by ``$ref``),
    ``required`` naming some of them; nothing else is accepted."""

    required: list[Identifier] = []
    properties: dict[Identifier, dict[str, Any]] = {}

    @model_validator(mode="after")
    def _required_are_fields(self) -> Form:
        missing = [f for f in self.required if f not in self.properties]
        if missing:
            raise ValueError(f"required names no field of the form: {missing}")
        return self


class Step(_Strict):
    """One step: the operation and how its ``path``/``query``/``body`` are filled (see
    :class:`~egov_gateway.register.domain.model.CompositeStep`)."""

    name: Identifier = "run"
    operation: str
    input: dict[Literal["path", "query", "body"], Any] = {}
    when: str | None = None
    completes_on: Annotated[str, Field(pattern=r"^kz\.egov\.[a-z_.]+\.v[0-9]+$")] | None = None
    completes_when: dict[str, list[Any]] = {}
    wait_for: list[str] = []
    fails_when: dict[str, list[Any]] = {}
    compensation: str | None = None
    compensation_input: dict[Literal["path", "query", "body"], Any] = {}
    #: the step as a citizen reads it on their application (kk/ru/en)
    title: Texts | None = None

    def expressions(self) -> Iterator[tuple[str, str]]:
        """(field, expression) of every ``$.`` value the step reads."""
        for part in ("input", "compensation_input"):
            yield from _exprs(part, getattr(self, part))
        if self.when:
            yield "when", self.when
        for i, expr in enumerate(self.wait_for):
            yield f"wait_for.{i}", expr


def _exprs(where: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str) and value.startswith("$."):
        yield where, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _exprs(f"{where}.{k}", v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _exprs(f"{where}.{i}", v)


Fee = Annotated[Decimal, Field(strict=False, ge=0, le=10_000, decimal_places=2)]


class _Service(_Strict):
    code: Code
    name: Texts
    description: Texts
    form: Form = Form()
    fee_mrp: Fee = Field(default=Decimal(0), description="the fee in MRP of the seeding day")
    sla: Sla

    def _check_steps(self, steps: list[Step], info: ValidationInfo) -> None:
        ctx = info.context or {}
        earlier: set[str] = set()
        for i, step in enumerate(steps):
            where = "step" if isinstance(self, SimpleService) else f"steps.{i}"
            if step.name in earlier:
                raise ValueError(f"{where}.name: step {step.name!r} is named twice")
            for field, expr in step.expressions():
                if not _EXPRESSION.match(expr):
                    raise ValueError(
                        f"{where}.{field}: {expr} is not $.payload.<field>, $.applicant, "
                        "$.application_id, $.person.<field>, $.today_plus_days.<n> or "
                        "$.steps.<step>.result|event.<field>"
                    )
                if m := _PAYLOAD.match(expr):
                    if m.group(1) not in self.form.properties:
                        raise ValueError(
                            f"{where}.{field}: {expr} names no field of the form "
                            f"({sorted(self.form.properties) or 'it has none'})"
                        )
                elif m := _STEP.match(expr):
                    # a compensation undoes the step itself: it may read the step's own answer
                    own = {step.name} if field.startswith("compensation_input") else set()
                    if m.group(1) not in earlier | own:
                        raise ValueError(f"{where}.{field}: {expr} names no earlier step")
            known = ctx.get("event_types")
            event = step.completes_on
            if event is not None and known is not None and event not in known:
                raise ValueError(f"{where}.completes_on: {event!r} is not a known event type")
            if (step.wait_for or step.completes_when) and step.completes_on is None:
                raise ValueError(f"{where}: wait_for and completes_when need a completes_on")
            earlier.add(step.name)

    def _check_fragments(self, info: ValidationInfo) -> None:
        fragments = (info.context or {}).get("fragments")
        if fragments is None:
            return
        for prop, schema in self.form.properties.items():
            try:
                inline(schema, fragments)
            except ValueError as exc:
                raise ValueError(f"form.properties.{prop}: {exc}") from None
        try:
            Draft202012Validator.check_schema(self.input_schema(fragments))
        except SchemaError as exc:
            where = ".".join(str(p) for p in exc.path)
            raise ValueError(f"form: not a valid JSON Schema at {where}: {exc.message}") from None

    def input_schema(self, fragments: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": list(self.form.required),
            "properties": {k: inline(v, fragments) for k, v in self.form.properties.items()},
            "additionalProperties": False,
        }

    def fee_tiyn(self, mrp_tiyn: int) -> int:
        return int(self.fee_mrp * mrp_tiyn)


class SimpleService(_Service):
    """A service one agency provides with its own operations (the first is what it runs)."""

    operations: list[LocalOp] = Field(min_length=1)
    channels: list[Channel] = Field(default=["portal", "mobile"], min_length=1)
    recipients: list[Recipient] = Field(default=["individual"], min_length=1)
    citizen_facing: bool = True
    public: bool = False
    subject: Identifier | None = Field(default=None, description="the field naming the subject")
    step: Step | None = Field(default=None, description="how the form fills its operation")

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> SimpleService:
        declared = (info.context or {}).get("operations")
        if declared is not None:
            for i, op in enumerate(self.operations):
                if op not in declared:
                    raise ValueError(
                        f"operations.{i}: {op!r} is not a contract operation of the agency"
                    )
        if self.step is not None:
            if self.step.operation not in self.operations:
                raise ValueError(
                    f"step.operation: {self.step.operation!r} is not one of the service's "
                    "operations"
                )
            if self.step.compensation is not None:
                raise ValueError("step.compensation: a simple service has nothing to undo")
            self._check_steps([self.step], info)
        if self.subject is not None:
            params = {p for op in self.operations for p in _PARAM.findall(op)}
            if self.subject not in self.form.properties and self.subject not in params:
                raise ValueError(
                    f"subject: {self.subject!r} is neither a field of the form nor a "
                    "parameter of its operations"
                )
        self._check_fragments(info)
        return self

    def to_service(self, agency: str, mrp_tiyn: int, fragments: Mapping[str, Any]) -> PublicService:
        steps = []
        if self.step is not None:
            steps = [_step(self.step, OperationKey.of(agency, self.step.operation))]
        return PublicService(
            code=self.code,
            agency=agency,
            kind="simple",
            name=self.name.localized(),
            description=self.description.localized(),
            operations=[OperationKey.of(agency, o) for o in self.operations],
            input_schema=self.input_schema(fragments),
            fee_tiyn=self.fee_tiyn(mrp_tiyn),
            sla=SlaTerm(self.sla.amount, self.sla.unit),
            channels=list(self.channels),
            citizen_facing=self.citizen_facing,
            public=self.public,
            subject_param=self.subject,
            recipients=list(self.recipients),
            steps=steps,
        )


class CompositeService(_Service):
    """One application, several agencies' steps (the single window's orchestrator runs them
    on the applicant's own authority); ``agency`` is the lead agency, who owns the service.
    Offered on the portal and the mobile app to individuals."""

    agency: Agency
    steps: list[Step] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> CompositeService:
        contract = (info.context or {}).get("contract")
        for i, step in enumerate(self.steps):
            for field in ("operation", "compensation"):
                op = getattr(step, field)
                if op is None:
                    continue
                agency, _, name = op.partition(":")
                if not re.match(_AGENCY_OP, op):
                    raise ValueError(f"steps.{i}.{field}: {op!r} is not 'agency:METHOD /path'")
                if contract is not None and name not in contract.get(agency, ()):
                    raise ValueError(
                        f"steps.{i}.{field}: {op!r} is not a contract operation of {agency!r}"
                    )
            if step.compensation_input and step.compensation is None:
                raise ValueError(f"steps.{i}.compensation_input: without a compensation")
        self._check_steps(self.steps, info)
        self._check_fragments(info)
        return self

    def to_service(self, mrp_tiyn: int, fragments: Mapping[str, Any]) -> PublicService:
        steps = [_step(st, OperationKey.parse(st.operation)) for st in self.steps]
        return PublicService(
            code=self.code,
            agency=self.agency,
            kind="composite",
            name=self.name.localized(),
            description=self.description.localized(),
            operations=[st.operation for st in steps],
            input_schema=self.input_schema(fragments),
            fee_tiyn=self.fee_tiyn(mrp_tiyn),
            sla=SlaTerm(self.sla.amount, self.sla.unit),
            channels=["portal", "mobile"],
            citizen_facing=True,
            public=False,
            subject_param=None,
            steps=steps,
        )


def _step(step: Step, operation: OperationKey) -> CompositeStep:
    return CompositeStep(
        step.name,
        operation,
        copy.deepcopy(dict(step.input)),
        completes_on=step.completes_on,
        compensation=OperationKey.parse(step.compensation) if step.compensation else None,
        compensation_input=copy.deepcopy(dict(step.compensation_input)),
        when=step.when,
        completes_when=copy.deepcopy(step.completes_when),
        wait_for=list(step.wait_for),
        fails_when=copy.deepcopy(step.fails_when),
        title=step.title.localized() if step.title else None,
    )


# -- the licence services (generated from E-Licensing's catalogue) ------------------------------
class LicenceType(_Strict):
    type: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")]
    details: dict[Identifier, str] = {}


class LicenceTexts(_Strict):
    """``name_suffix`` follows licensing's name of the activity; ``description`` is a template
    with ``{name}`` (the service's name, lower case)."""

    name_suffix: Texts
    description: Texts

    @field_validator("description")
    @classmethod
    def _template(cls, value: Texts) -> Texts:
        for lang in ("kk", "ru", "en"):
            text = getattr(value, lang)
            try:
                text.format(name="x")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"{lang}: only {{name}} may be substituted ({exc})") from None
            if "{name}" not in text:
                raise ValueError(f"{lang}: the template must name the licence ({{name}})")
        return value


#: the fields every licence form has; ``form_fields`` adds those some types' details need
LICENCE_FORM_FIELDS = ("applicant_bin", "license_type", "activity_address", "qualified_staff")


class Licences(_Strict):
    texts: LicenceTexts
    form_fields: dict[Identifier, dict[str, Any]] = {}
    types: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,37}$")], LicenceType]

    @model_validator(mode="after")
    def _consistent(self) -> Licences:
        catalogue = licence_catalogue()
        known = set(LICENCE_FORM_FIELDS) | set(self.form_fields)
        for code, lt in self.types.items():
            try:
                t = catalogue.get(lt.type)
            except LookupError as exc:
                raise ValueError(f"types.{code}.type: {exc}") from None
            for field, expr in lt.details.items():
                m = _PAYLOAD.match(expr)
                if not m or m.group(1) not in known:
                    raise ValueError(
                        f"types.{code}.details.{field}: {expr} names no field of the licence "
                        f"form ({sorted(known)})"
                    )
            missing = set(t.rules.detail_fields) - set(lt.details) - set(LICENCE_FORM_FIELDS)
            if missing:
                raise ValueError(
                    f"types.{code}.details: E-Licensing's {lt.type} needs {sorted(missing)}"
                )
        return self


class AgencyFile(_Strict):
    owner: Agency
    member: MemberData
    licences: Licences | None = None
    services: list[SimpleService] = []


class CompositesFile(_Strict):
    owner: Literal["gateway"]
    services: list[CompositeService] = Field(min_length=1)


class GatewayGrant(_Strict):
    operation: AgencyOp
    reason: str = Field(min_length=10)


class GatewayFile(_Strict):
    owner: Literal["gateway"]
    member: MemberData
    #: client → operations it may call (the agencies' documented flows)
    grants: dict[Agency, list[AgencyOp]] = {}
    #: what the gateway's own client may call, each with its reason
    gateway_grants: list[GatewayGrant] = []
    #: given to the gateway by earlier releases, withdrawn once from every register
    withdrawn_gateway_grants: list[AgencyOp] = []


class FragmentsFile(_Strict):
    defs: dict[Identifier, dict[str, Any]] = Field(alias="$defs", min_length=1)


def inline(schema: Any, fragments: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``schema`` with every ``{$ref: name, ...}`` replaced by the fragment (its other keys
    added), recursively; a deep copy, never shared with the fragments."""
    if isinstance(schema, list):
        return [inline(v, fragments, seen) for v in schema]
    if not isinstance(schema, Mapping):
        return schema
    if "$ref" in schema:
        name = schema["$ref"]
        if name not in fragments:
            raise ValueError(f"$ref {name!r}: no such fragment ({sorted(fragments)})")
        if name in seen:
            raise ValueError(f"$ref {name!r} refers to itself ({' → '.join(seen)})")
        base = inline(fragments[name], fragments, (*seen, name))
        rest = {k: inline(v, fragments, seen) for k, v in schema.items() if k != "$ref"}
        return {**base, **rest}
    return {k: inline(v, fragments, seen) for k, v in schema.items()}


# -- loading ------------------------------------------------------------------------------------
class RegisterData:
    """The validated files; builds fresh domain objects on each call."""

    def __init__(
        self,
        agencies: dict[str, AgencyFile],
        composites: CompositesFile,
        gateway: GatewayFile,
        fragments: dict[str, Any],
    ) -> None:
        self.agencies = agencies
        self.composites = composites
        self.gateway = gateway
        self.fragments = fragments

    def contract_operations(self) -> dict[str, list[str]]:
        return {a: list(f.member.operations) for a, f in self.agencies.items()}

    def licensing_types(self) -> dict[str, tuple[str, dict[str, str]]]:
        lic = self.agencies["licensing"].licences
        return {c: (t.type, dict(t.details)) for c, t in (lic.types if lic else {}).items()}

    def simple_services(self, mrp_tiyn: int) -> list[PublicService]:
        out: list[PublicService] = []
        for agency, f in self.agencies.items():
            if f.licences is not None:
                out += [self._licence(code, f.licences, mrp_tiyn) for code in f.licences.types]
            out += [s.to_service(agency, mrp_tiyn, self.fragments) for s in f.services]
        return out

    def composite_services(self, mrp_tiyn: int) -> list[PublicService]:
        return [s.to_service(mrp_tiyn, self.fragments) for s in self.composites.services]

    def _licence(self, code: str, lic: Licences, mrp_tiyn: int) -> PublicService:
        """The applicant is the citizen (``$.applicant``: E-Licensing refuses a citizen applying
        in another's name) for the BIN they direct; the rest goes into the type's ``details``.
        Name, fee and term are licensing's (its catalogue); the form's ``license_type`` stays
        the register's lower-case code (the proactive offers prefill it)."""
        lt = lic.types[code]
        t = licence_catalogue().get(lt.type)
        suffix = lic.texts.name_suffix
        name = Localized(
            f"{t.name.kk}{suffix.kk}", f"{t.name.ru}{suffix.ru}", f"{t.name.en}{suffix.en}"
        )
        d = lic.texts.description
        description = Localized(
            d.kk.format(name=name.kk.lower()),
            d.ru.format(name=name.ru.lower()),
            d.en.format(name=name.en.lower()),
        )
        used = {m.group(1) for e in lt.details.values() if (m := _PAYLOAD.match(e))}
        extra = {f: inline(s, self.fragments) for f, s in lic.form_fields.items() if f in used}
        details = {
            "activity_address": "$.payload.activity_address",
            "qualified_staff": "$.payload.qualified_staff",
            **lt.details,
        }
        apply = OperationKey.of("licensing", "POST /applications")
        return PublicService(
            code=f"lc-license-{code}",
            agency="licensing",
            kind="simple",
            name=name,
            description=description,
            operations=[
                apply,
                OperationKey.of("licensing", "GET /applications/{id}"),
                OperationKey.of("licensing", "GET /license-types/{code}"),
            ],
            input_schema={
                "type": "object",
                "required": ["applicant_bin", "license_type", "activity_address"],
                "properties": {
                    "applicant_bin": inline({"$ref": "bin"}, self.fragments),
                    "license_type": {"const": code},
                    "activity_address": inline({"$ref": "text"}, self.fragments),
                    "qualified_staff": {
                        "type": "array",
                        "items": inline({"$ref": "iin"}, self.fragments),
                        "maxItems": 50,
                    },
                    **extra,
                },
                "additionalProperties": False,
            },
            fee_tiyn=t.fee_mrp * mrp_tiyn,
            sla=SlaTerm(t.sla_working_days, "working_days"),
            channels=["portal", "mobile"],
            citizen_facing=True,
            public=False,
            recipients=["legal_entity"],
            steps=[
                CompositeStep(
                    "run",
                    apply,
                    {
                        "body": {
                            "license_type": lt.type,  # E-Licensing's own code
                            "applicant_iin": "$.applicant",
                            "applicant_bin": "$.payload.applicant_bin",
                            "details": details,
                        }
                    },
                )
            ],
        )


def _parse(directory: Traversable, name: str) -> Any:
    try:
        raw = directory.joinpath(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise RegisterDataError(f"register/{name}: cannot be read ({exc})") from None
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise RegisterDataError(f"register/{name}: not valid YAML ({exc})") from None


_M = TypeVar("_M", bound=BaseModel)


def _validate(model: type[_M], data: Any, name: str, context: dict[str, Any] | None = None) -> _M:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = list(e["loc"])
            where = ""
            if len(loc) >= 2 and loc[0] == "services" and isinstance(loc[1], int):
                try:
                    code = data["services"][loc[1]]["code"]
                except (KeyError, IndexError, TypeError):
                    code = f"#{loc[1]}"
                where, loc = f"service {code}: ", loc[2:]
            field = ".".join(str(p) for p in loc)
            msg = e["msg"].removeprefix("Value error, ")
            if field and e["type"] == "value_error" and re.match(r"^[\w.]+: ", msg):
                field, msg = f"{field}.{msg.split(': ', 1)[0]}", msg.split(": ", 1)[1]
            problems.append(f"{where}{field + ': ' if field else ''}{msg}")
        raise RegisterDataError(f"register/{name}: " + "; ".join(problems)) from None


def load_register_data(
    directory: Traversable | None = None, event_types: set[str] | None = None
) -> RegisterData:
    """Read and validate every file of ``directory`` (default: meshkit's reference data); a
    step awaits one of ``event_types`` (default: every event type meshkit.contracts defines)."""
    directory = directory or files("meshkit.reference").joinpath("register")
    if event_types is None:
        import meshkit.contracts  # noqa: F401  (registers the event types)
        from meshkit.events import registry

        event_types = {t.event_type for t in registry.types()}
    fragments = _validate(FragmentsFile, _parse(directory, "fragments.yaml"), "fragments.yaml")
    defs = dict(fragments.defs)
    for name, schema in defs.items():
        try:
            inline(schema, defs, (name,))
        except ValueError as exc:
            raise RegisterDataError(f"register/fragments.yaml: $defs.{name}: {exc}") from None
    raw = {a: _parse(directory, f"{a}.yaml") for a in AGENCIES}
    contract: dict[str, list[str]] = {}
    for a, data in raw.items():
        ops = (data.get("member") or {}).get("operations") if isinstance(data, dict) else None
        contract[a] = list(ops) if isinstance(ops, list) else []
    base = {"fragments": defs, "event_types": event_types}
    agencies: dict[str, AgencyFile] = {}
    for a, data in raw.items():
        f = _validate(AgencyFile, data, f"{a}.yaml", {**base, "operations": contract[a]})
        if f.owner != a:
            raise RegisterDataError(f"register/{a}.yaml: owner: {f.owner!r}, not {a!r}")
        agencies[a] = f
    composites = _validate(
        CompositesFile,
        _parse(directory, "composites.yaml"),
        "composites.yaml",
        {**base, "contract": contract},
    )
    gateway = _validate(GatewayFile, _parse(directory, "gateway.yaml"), "gateway.yaml")
    data = RegisterData(agencies, composites, gateway, defs)
    _check_across(data)
    return data


def _check_across(data: RegisterData) -> None:
    """What no single file can tell: codes unique and prefixed by their owner, grants naming
    members' contract operations."""
    seen: dict[str, str] = {}
    owned: list[tuple[str, list[SimpleService] | list[CompositeService]]] = [
        (a, f.services) for a, f in data.agencies.items()
    ]
    for owner, services in [*owned, ("composites", data.composites.services)]:
        for s in services:
            name = f"register/{owner}.yaml: service {s.code}"
            if not s.code.startswith(PREFIXES[owner]):
                raise RegisterDataError(f"{name}: code: must start with {PREFIXES[owner]!r}")
            if s.code in seen:
                raise RegisterDataError(f"{name}: code: also defined in {seen[s.code]}")
            seen[s.code] = f"register/{owner}.yaml"
    for code in data.licensing_types():
        if f"lc-license-{code}" in seen:
            raise RegisterDataError(
                f"register/licensing.yaml: licences.types.{code}: lc-license-{code} is also "
                f"defined in {seen[f'lc-license-{code}']}"
            )
    contract = data.contract_operations()
    g = data.gateway
    checks = [(f"grants.{c}.{i}", op) for c, ops in g.grants.items() for i, op in enumerate(ops)]
    checks += [(f"gateway_grants.{i}", gg.operation) for i, gg in enumerate(g.gateway_grants)]
    checks += [
        (f"withdrawn_gateway_grants.{i}", op) for i, op in enumerate(g.withdrawn_gateway_grants)
    ]
    for where, op in checks:
        agency, _, name = op.partition(":")
        if name not in contract.get(agency, ()):
            raise RegisterDataError(
                f"register/gateway.yaml: {where}: {op!r} is not a contract operation of {agency!r}"
            )


@cache
def register_data() -> RegisterData:
    """The register's seed data, read and validated once."""
    return load_register_data()
