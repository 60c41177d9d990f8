"""Members, operations, public services and grants of the Unified Register (pure Python)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from egov_gateway.register.domain.templates import HTTP_METHODS, InvalidTemplate, validate_template
from meshkit.errors import RuleViolation

XROAD_INSTANCE = "KZ"
MemberClass = Literal["GOV", "COM", "ORG"]
MemberStatus = Literal["active", "suspended"]
ServiceKind = Literal["simple", "composite"]
ServiceStatus = Literal["active", "withdrawn"]
Lang = Literal["kk", "ru", "en"]
SlaUnit = Literal["minutes", "hours", "working_days", "calendar_days"]
Channel = Literal["portal", "mobile", "public_service_center", "agency_office", "api"]

CITIZEN = "citizen"  # the client code of citizens calling on their own behalf
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,49}$")


@dataclass(frozen=True)
class Localized:
    """A text in the three languages of the register (Kazakh, Russian, English)."""

    kk: str
    ru: str
    en: str

    def in_lang(self, lang: str) -> str:
        return {"kk": self.kk, "ru": self.ru, "en": self.en}.get(lang, self.en)


@dataclass(frozen=True, order=True)
class OperationKey:
    """One operation of a member: method + path template, e.g. ``registry:POST /births``."""

    agency: str
    method: str
    path: str

    @property
    def id(self) -> str:
        return f"{self.agency}:{self.method} {self.path}"

    @classmethod
    def parse(cls, operation_id: str) -> OperationKey:
        """``"identity:GET /persons/{iin}"`` → key; raises RuleViolation when malformed."""
        agency, sep, rest = operation_id.partition(":")
        method, _, path = rest.partition(" ")
        if not sep or not CODE_PATTERN.match(agency) or method.upper() not in HTTP_METHODS:
            raise RuleViolation(
                f"{operation_id!r} is not an operation id like 'identity:GET /persons/{{iin}}'"
            )
        try:
            path = validate_template(path)
        except InvalidTemplate as exc:
            raise RuleViolation(str(exc)) from None
        return cls(agency, method.upper(), path)

    @classmethod
    def of(cls, agency: str, method_and_path: str) -> OperationKey:
        return cls.parse(f"{agency}:{method_and_path}")


@dataclass
class Member:
    """An agency (or business/organisation) connected to the exchange.

    ``code`` is its subsystem (the agency's information system, e.g. ``registry``); X-Road
    identifies it as ``KZ/<member_class>/<member_code>/<code>`` with the BIN as member code.
    A *provider* publishes operations (routed to ``base_urls[0]``); a pure client does not.
    """

    code: str
    member_class: MemberClass
    member_code: str
    name: Localized
    base_urls: list[str]
    status: MemberStatus = "active"
    provider: bool = True
    # paths (or prefixes ending in '/') callable without authentication
    public_prefixes: list[str] = field(default_factory=lambda: ["/public/"])
    # the operations the member has committed to (its contract), known before any fetch
    declared_operations: list[str] = field(default_factory=list)
    instance: str = XROAD_INSTANCE

    @property
    def base_url(self) -> str:
        return self.base_urls[0] if self.base_urls else ""

    @property
    def xroad_id(self) -> tuple[str, str, str, str]:
        return (self.instance, self.member_class, self.member_code, self.code)

    def suspend(self) -> None:
        if self.status == "suspended":
            raise RuleViolation(f"member {self.code} is already suspended")
        self.status = "suspended"

    def activate(self) -> None:
        if self.status == "active":
            raise RuleViolation(f"member {self.code} is already active")
        self.status = "active"

    def is_public_path(self, path: str) -> bool:
        for prefix in self.public_prefixes:
            if prefix.endswith("/"):
                if path.startswith(prefix):
                    return True
            elif path == prefix or path.startswith(prefix + "/"):
                return True
        return False

    def declared_keys(self) -> list[OperationKey]:
        return [OperationKey.of(self.code, d) for d in self.declared_operations]

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if not CODE_PATTERN.match(self.code):
            errors["code"] = "lower-case letters, digits and '-', 2..50 characters"
        if self.provider and not self.base_urls:
            errors["base_urls"] = "a provider needs at least one base URL"
        for i, url in enumerate(self.base_urls):
            if not re.match(r"^https?://[^\s/]+", url):
                errors[f"base_urls.{i}"] = "must be an http(s) URL"
        for i, prefix in enumerate(self.public_prefixes):
            if not prefix.startswith("/"):
                errors[f"public_prefixes.{i}"] = "must start with '/'"
        for i, decl in enumerate(self.declared_operations):
            try:
                OperationKey.of(self.code, decl)
            except RuleViolation as exc:
                errors[f"declared_operations.{i}"] = exc.detail
        if errors:
            raise RuleViolation(f"member {self.code} is not valid", errors=errors)


@dataclass(frozen=True)
class SlaTerm:
    """The legal term of a service, e.g. 5 working days (weekends do not count)."""

    amount: int
    unit: SlaUnit

    def due_at(self, start: datetime) -> datetime:
        if self.unit == "minutes":
            return start + timedelta(minutes=self.amount)
        if self.unit == "hours":
            return start + timedelta(hours=self.amount)
        if self.unit == "calendar_days":
            return start + timedelta(days=self.amount)
        due, left = start, self.amount
        while left > 0:
            due += timedelta(days=1)
            if due.weekday() < 5:
                left -= 1
        return due


@dataclass(frozen=True)
class CompositeStep:
    """One step of a composite service, run by the single window's orchestrator.

    ``input`` maps the operation's ``path``/``query``/``body`` from expressions:
    ``$.payload.<field>`` (the application), ``$.applicant`` (the applicant's IIN),
    ``$.steps.<earlier step>.result.<field>`` or ``$.steps.<earlier step>.event.<field>``;
    anything else is a literal. The step is complete when ``completes_on`` (an event type)
    arrives, or at once on a successful response when it is None. ``compensation`` undoes
    the step when a later step fails.

    ``when`` (an expression) makes the step optional: it is skipped when the value is absent,
    empty or false (e.g. ``$.payload.license``). ``completes_when`` maps fields of the answer
    (dotted, list indexes allowed) to the values that mean the awaited fact has already
    happened — the step is then done without waiting for ``completes_on`` (a read of state
    the agency may have reached before the step began). ``wait_for`` lists expressions whose
    values identify the awaited event (e.g. an invoice id known from an earlier step); the
    wait is registered *before* the call, so an event that lands between the read and the
    answer is not lost. ``fails_when`` (same shape as ``completes_when``) fails the step on an
    answer that shows the agency refused the matter (e.g. an act ``blocked`` by its checks);
    the citizen sees the agency's ``status_reason``.
    """

    name: str
    operation: OperationKey
    input: dict[str, Any] = field(default_factory=dict)
    completes_on: str | None = None
    compensation: OperationKey | None = None
    compensation_input: dict[str, Any] = field(default_factory=dict)
    when: str | None = None
    completes_when: dict[str, list[Any]] = field(default_factory=dict)
    wait_for: list[str] = field(default_factory=list)
    fails_when: dict[str, list[Any]] = field(default_factory=dict)
    #: what the citizen reads for the step (kk/ru/en), never its technical name
    title: Localized | None = None


@dataclass
class PublicService:
    code: str
    agency: str
    kind: ServiceKind
    name: Localized
    description: Localized
    operations: list[OperationKey]
    input_schema: dict[str, Any]
    fee_tiyn: int
    sla: SlaTerm
    channels: list[str]
    citizen_facing: bool
    public: bool
    subject_param: str | None = None
    recipients: list[str] = field(default_factory=lambda: ["individual"])
    steps: list[CompositeStep] = field(default_factory=list)
    status: ServiceStatus = "active"

    @property
    def agencies(self) -> set[str]:
        """Every member this service depends on (an outage of any is an outage of it)."""
        found = {op.agency for op in self.operations}
        for step in self.steps:
            found.add(step.operation.agency)
        return found or {self.agency}

    def search_text(self) -> str:
        """Code and names case-folded: what the register searched before its search index
        (:mod:`.search`); kept in the seed ledger's digest (``repository.service_digest``)."""
        return " ".join([self.code, self.name.kk, self.name.ru, self.name.en]).casefold()

    def with_status(self, status: ServiceStatus) -> PublicService:
        return replace(self, status=status)


@dataclass(frozen=True)
class Grant:
    client: str
    operation_id: str
