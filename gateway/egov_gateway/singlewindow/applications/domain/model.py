"""Applications and their process (pure Python: no HTTP, no SQL).

An :class:`Application` is one citizen's request for one public service of the register. It
runs as a list of :class:`Step` s — one for a simple service, several for a composite one
(DESIGN §4.3) — preceded by the once-only step ``applicant_record`` that fetches the
applicant's own data from identity. The aggregate decides what happens next
(:meth:`Application.next_action`); the engine performs it and reports back. Every change
appends to the timeline and, for status changes, records an event for the outbox.

Step lifecycle: ``pending → calling → (waiting →) done``; a failed call is retried while the
error is transient, otherwise the step ``failed`` and the completed steps are compensated in
reverse order (``compensating → compensated``/``compensation_failed``), then the
application is ``failed`` with the reason the citizen sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from egov_gateway.register.domain.mapping import (
    APPLICANT_STEP,
    default_mapping,
    dig,
    path_params,
    resolve,
)
from meshkit import calendar
from meshkit.contracts.gateway import (
    ApplicationOverdue,
    ApplicationStatusChanged,
    ApplicationSubmitted,
)
from meshkit.errors import Conflict, RuleViolation
from meshkit.events import EventData

ApplicationStatus = Literal[
    "submitted", "in_progress", "waiting", "compensating", "completed", "failed"
]
StepStatus = Literal[
    "pending",
    "calling",
    "waiting",
    "done",
    "failed",
    "compensating",
    "compensated",
    "compensation_failed",
    "skipped",
]
FINAL: frozenset[str] = frozenset({"completed", "failed"})
#: the engine records a failed call as "<agency's detail> (<status>)"
_REFUSED = re.compile(r"\((4[0-9][0-9])\)$")

APPLICANT_OPERATION = "identity:GET /persons/{iin}"
#: fields of a step's result (and of an event's data) that identify what the step created
ID_FIELDS: tuple[str, ...] = (
    "id",
    "invoice_id",
    "payout_id",
    "act_id",
    "act_number",
    "number",
    "bin",
    "child_iin",
)
#: events that end a waiting step unsuccessfully, per the event that would complete it
FAILS_ON: dict[str, tuple[str, ...]] = {
    "kz.egov.payments.invoice.paid.v1": (
        "kz.egov.payments.invoice.cancelled.v1",
        "kz.egov.payments.invoice.expired.v1",
    ),
    "kz.egov.notary.act.registered.v1": ("kz.egov.notary.act.revoked.v1",),
    "kz.egov.registry.property.transferred.v1": ("kz.egov.registry.property.transfer_rejected.v1",),
}
#: fields of an event's data that also identify what it is about (an invoice's reference: the
#: act or application it was issued for)
EVENT_ONLY_ID_FIELDS: tuple[str, ...] = ("reference",)


class ConcurrentUpdate(Conflict):
    """Someone else changed the application since it was read (optimistic concurrency)."""


# -- the plan: what a service runs ---------------------------------------------------------
@dataclass(frozen=True)
class StepPlan:
    name: str
    operation: str  # "agency:METHOD /path/{param}"
    input: Mapping[str, Any] = field(default_factory=dict)
    completes_on: str | None = None
    compensation: str | None = None
    compensation_input: Mapping[str, Any] = field(default_factory=dict)
    #: the step runs only when this expression has a value (optional steps)
    when: str | None = None
    #: answer fields → values meaning the awaited event's fact has already happened
    completes_when: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    #: expressions identifying the awaited event, registered as waits before the call
    wait_for: Sequence[str] = ()
    #: answer fields → values meaning the agency refused the matter: the step fails
    fails_when: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    @property
    def agency(self) -> str:
        return self.operation.partition(":")[0]

    @property
    def method(self) -> str:
        return self.operation.partition(":")[2].partition(" ")[0]

    @property
    def path_template(self) -> str:
        return self.operation.partition(":")[2].partition(" ")[2]


@dataclass(frozen=True)
class ServicePlan:
    code: str
    agency: str
    kind: Literal["simple", "composite"]
    steps: Sequence[StepPlan]
    sla_amount: int
    sla_unit: str

    def due_at(self, submitted_at: datetime) -> datetime:
        if self.sla_unit == "working_days":
            return calendar.due_at(submitted_at, self.sla_amount)
        if self.sla_unit == "minutes":
            return submitted_at + timedelta(minutes=self.sla_amount)
        if self.sla_unit == "hours":
            return submitted_at + timedelta(hours=self.sla_amount)
        return submitted_at + timedelta(days=self.sla_amount)

    def step(self, name: str) -> StepPlan:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)


def applicant_step() -> StepPlan:
    return StepPlan(APPLICANT_STEP, APPLICANT_OPERATION, {"path": {"iin": "$.applicant"}})


def simple_step(operation: str, payload_fields: Iterable[str]) -> StepPlan:
    """A simple service's one step, mapped by the register's default (see ``default_mapping``)."""
    return StepPlan("run", operation, default_mapping(operation, payload_fields))


# -- input mapping -------------------------------------------------------------------------
@dataclass(frozen=True)
class StepRequest:
    """A resolved call: what the engine sends through the routed exchange."""

    agency: str
    method: str
    path: str
    query: dict[str, Any]
    body: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
        }


def build_request(
    operation: str, mapping: Mapping[str, Any], scope: Mapping[str, Any]
) -> StepRequest:
    agency, _, rest = operation.partition(":")
    method, _, template = rest.partition(" ")
    values = resolve(dict(mapping.get("path") or {}), scope)
    path = template
    for param in path_params(template):
        value = values.get(param)
        if value is None or str(value) == "":
            raise RuleViolation(
                f"the value of {param!r} for {operation} is not known yet",
                errors={f"path.{param}": "no value"},
            )
        path = path.replace("{" + param + "}", str(value))
    query = resolve(dict(mapping.get("query") or {}), scope)
    body = resolve(mapping["body"], scope) if "body" in mapping else None
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = {}
    return StepRequest(agency, method, path, query, body)


def is_set(value: Any) -> bool:
    """What a ``when`` expression needs: a value that is there and not empty or false."""
    return value is not None and value is not False and value not in ("", [], {})


def already_happened(conditions: Mapping[str, Sequence[Any]], result: Any) -> bool:
    """Whether an answer shows the awaited fact (every ``completes_when`` condition holds)."""
    if not conditions:
        return False
    return all(
        dig(result, path.split(".")) in list(accepted) for path, accepted in conditions.items()
    )


def refusal(conditions: Mapping[str, Sequence[Any]], result: Any) -> str | None:
    """Why an answer is a refusal (``fails_when`` holds): the agency's own reason if it gives
    one (``status_reason``/``reason``), else the fields that decided it."""
    if not already_happened(conditions, result):
        return None
    for key in ("status_reason", "reason"):
        found = result.get(key) if isinstance(result, Mapping) else None
        if isinstance(found, str) and found:
            return found
    return ", ".join(f"{path} is {dig(result, path.split('.'))!r}" for path in conditions)


def id_values(data: Any) -> list[str]:
    """The identifiers a result or an event carries (for correlating steps and events)."""
    if not isinstance(data, Mapping):
        return []
    return [str(data[k]) for k in ID_FIELDS if isinstance(data.get(k), str | int) and data[k]]


# -- the aggregate -----------------------------------------------------------------------------
@dataclass
class Step:
    seq: int
    name: str
    operation: str
    status: StepStatus = "pending"
    request: dict[str, Any] | None = None
    result: Any = None
    event: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def settled(self) -> bool:
        return self.status in ("done", "compensated", "compensation_failed", "skipped")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    kind: str
    step: str | None = None
    status: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Wait:
    event_type: str
    match_key: str
    seq: int


@dataclass(frozen=True)
class Action:
    """What the engine must do next for an application."""

    kind: Literal["call", "compensate", "wait", "finished"]
    step: Step | None = None


@dataclass
class Application:
    id: str
    service_code: str
    agency: str
    kind: str
    applicant_iin: str
    origin: str
    status: ApplicationStatus
    payload: dict[str, Any]
    submitted_at: datetime
    due_at: datetime
    updated_at: datetime
    steps: list[Step] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    failure_reason: str | None = None
    completed_at: datetime | None = None
    overdue_at: datetime | None = None
    rating: int | None = None
    rating_comment: str | None = None
    rated_at: datetime | None = None
    version: int = 0
    # not persisted as such: what the repository must write next, and the outbox events
    new_waits: list[Wait] = field(default_factory=list)
    done_waits: set[int] = field(default_factory=set)
    events: list[EventData] = field(default_factory=list)
    persisted_timeline: int = 0

    # -- creation ---------------------------------------------------------------------
    @classmethod
    def submit(
        cls,
        *,
        id: str,
        plan: ServicePlan,
        applicant_iin: str,
        payload: dict[str, Any],
        origin: str,
        now: datetime,
    ) -> Application:
        steps = [Step(0, APPLICANT_STEP, APPLICANT_OPERATION)]
        steps += [Step(i + 1, s.name, s.operation) for i, s in enumerate(plan.steps)]
        app = cls(
            id=id,
            service_code=plan.code,
            agency=plan.agency,
            kind=plan.kind,
            applicant_iin=applicant_iin,
            origin=origin,
            status="submitted",
            payload=payload,
            submitted_at=now,
            due_at=plan.due_at(now),
            updated_at=now,
            steps=steps,
        )
        app._log(
            now,
            f"applicant:{applicant_iin}",
            "submitted",
            status="submitted",
            reason=f"via {origin}",
        )
        app.events.append(
            ApplicationSubmitted(
                application_id=id,
                service_code=plan.code,
                applicant_iin=applicant_iin,
                due_at=app.due_at,
            )
        )
        app._set_status("in_progress", now, "the application is being processed")
        return app

    # -- queries ------------------------------------------------------------------------
    @property
    def final(self) -> bool:
        return self.status in FINAL

    def step_by_name(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def scope(self) -> dict[str, Any]:
        return {
            "application_id": self.id,
            "payload": self.payload,
            "applicant": self.applicant_iin,
            "submitted_at": self.submitted_at,
            "steps": {s.name: {"result": s.result, "event": s.event} for s in self.steps},
        }

    def plan_of(self, plan: ServicePlan, step: Step) -> StepPlan:
        return applicant_step() if step.name == APPLICANT_STEP else plan.step(step.name)

    def next_action(self, plan: ServicePlan) -> Action:
        if self.final:
            return Action("finished")
        if self.status == "compensating":
            for step in reversed(self.steps):
                if step.status == "compensating":
                    return Action("compensate", step)
            return Action("finished")
        for step in self.steps:
            if step.status in ("pending", "calling"):
                return Action("call", step)
            if step.status == "waiting":
                return Action("wait", step)
        return Action("finished")

    # -- transitions --------------------------------------------------------------------
    def begin_call(
        self, step: Step, request: StepRequest, request_id: str, plan: StepPlan, now: datetime
    ) -> None:
        if step.status not in ("pending", "calling"):
            raise RuleViolation(f"step {step.name} is {step.status}, not ready to call")
        step.status = "calling"
        step.attempts += 1
        step.request = {**request.as_json(), "request_id": request_id}
        step.started_at = step.started_at or now
        if plan.completes_on:
            # registered before the call: the agency's event may arrive before its answer
            self._wait(plan.completes_on, f"corr:{request_id}", step.seq)
            for failing in FAILS_ON.get(plan.completes_on, ()):
                self._wait(failing, f"corr:{request_id}", step.seq)
            scope = self.scope()
            for expr in plan.wait_for:
                value = resolve(expr, scope)
                if isinstance(value, str | int) and str(value):
                    self._wait_for_id(plan.completes_on, str(value), step.seq)
        self._log(
            now,
            "gateway",
            "step_started",
            step=step.name,
            status="calling",
            reason=f"{request.method} {request.agency}{request.path} (attempt {step.attempts})",
        )
        self.updated_at = now

    def call_succeeded(self, step: Step, result: Any, plan: StepPlan, now: datetime) -> None:
        if step.status != "calling":
            return  # answered twice (a resumed call): the first answer stands
        step.result = result
        step.error = None
        refused = refusal(plan.fails_when, result)
        if refused is not None:
            step.error = refused
            self._fail_step(step, f"{plan.agency}: {refused}", now, actor=plan.agency)
        elif (
            plan.completes_on
            and step.event is None
            and not already_happened(plan.completes_when, result)
        ):
            step.status = "waiting"
            for value in id_values(result):
                self._wait_for_id(plan.completes_on, value, step.seq)
            self._log(
                now,
                plan.agency,
                "step_waiting",
                step=step.name,
                status="waiting",
                reason=f"waiting for {plan.completes_on}",
            )
            self._set_status(
                "waiting", now, f"{step.name}: waiting for {_short(plan.completes_on)}"
            )
        else:
            self._finish_step(step, now, actor=plan.agency)
        self.updated_at = now

    def skip(self, step: Step, reason: str, now: datetime) -> None:
        """An optional step whose condition does not hold: nothing to do, nothing to undo."""
        if step.status != "pending":
            return
        step.status = "skipped"
        step.finished_at = now
        self._log(now, "gateway", "step_skipped", step=step.name, status="skipped", reason=reason)
        self._complete_if_all_done(now)
        self.updated_at = now

    def call_failed(self, step: Step, error: str, *, retry: bool, now: datetime) -> None:
        if step.status != "calling":
            return
        step.error = error
        if retry:
            step.status = "pending"
            self._log(now, "gateway", "step_retry", step=step.name, status="pending", reason=error)
        else:
            self._fail_step(step, error, now, actor="gateway")
        self.updated_at = now

    def event_arrived(
        self,
        seq: int,
        event_type: str,
        data: dict[str, Any],
        actor: str,
        plan: ServicePlan,
        now: datetime,
    ) -> bool:
        """An event matched a waiting (or still calling) step; True if it changed anything."""
        step = self.steps[seq]
        if self.final or step.status not in ("calling", "waiting"):
            return False
        step_plan = self.plan_of(plan, step)
        if event_type != step_plan.completes_on:
            self._fail_step(step, f"{step.name}: {_short(event_type)}", now, actor=actor)
            return True
        if step.event is not None:
            return False
        step.event = {"type": event_type, **data}
        if step.status == "waiting":
            self._finish_step(step, now, actor=actor)
        else:
            self._log(
                now,
                actor,
                "step_event",
                step=step.name,
                status="calling",
                reason=_short(event_type),
            )
        self.updated_at = now
        return True

    def compensation_finished(
        self, step: Step, ok: bool, detail: str | None, now: datetime
    ) -> None:
        if step.status != "compensating":
            return
        step.status = "compensated" if ok else "compensation_failed"
        self._log(
            now,
            "gateway",
            "compensated" if ok else "compensation_failed",
            step=step.name,
            status=step.status,
            reason=detail,
        )
        if not any(s.status == "compensating" for s in self.steps):
            self._finish_failed(now)
        self.updated_at = now

    def mark_overdue(self, now: datetime) -> bool:
        if self.final or self.overdue_at is not None or now <= self.due_at:
            return False
        self.overdue_at = now
        self._log(
            now,
            "gateway",
            "overdue",
            status=self.status,
            reason=f"the term ended at {self.due_at.isoformat()}",
        )
        self.events.append(
            ApplicationOverdue(
                application_id=self.id,
                service_code=self.service_code,
                applicant_iin=self.applicant_iin,
                agency=self.agency,
                due_at=self.due_at,
                detected_at=now,
            )
        )
        self.updated_at = now
        return True

    def rate(self, stars: int, comment: str | None, now: datetime) -> None:
        if self.status != "completed":
            raise RuleViolation(
                "a service can be rated once it is completed",
                errors={"rating": f"the application is {self.status}"},
            )
        if self.rating is not None:
            raise Conflict("this application is already rated")
        if not 1 <= stars <= 5:
            raise RuleViolation("rate from 1 to 5", errors={"rating": "1..5"})
        self.rating, self.rating_comment, self.rated_at = stars, comment, now
        self._log(now, f"applicant:{self.applicant_iin}", "rated", reason=f"{stars}/5")
        self.updated_at = now

    # -- internals ----------------------------------------------------------------------
    def _wait(self, event_type: str, key: str, seq: int) -> None:
        w = Wait(event_type, key[:200], seq)
        if w not in self.new_waits:
            self.new_waits.append(w)

    def _wait_for_id(self, event_type: str, value: str, seq: int) -> None:
        self._wait(event_type, f"id:{value}", seq)
        for failing in FAILS_ON.get(event_type, ()):
            self._wait(failing, f"id:{value}", seq)

    def _finish_step(self, step: Step, now: datetime, *, actor: str) -> None:
        step.status = "done"
        step.finished_at = now
        self.done_waits.add(step.seq)
        self._log(now, actor, "step_done", step=step.name, status="done")
        if not self._complete_if_all_done(now) and self.status != "in_progress":
            self._set_status("in_progress", now, f"{step.name} done")

    def _complete_if_all_done(self, now: datetime) -> bool:
        if all(s.status in ("done", "skipped") for s in self.steps):
            self.status_completed(now)
            return True
        return False

    def status_completed(self, now: datetime) -> None:
        last = [s for s in self.steps if s.status == "done"][-1]
        self.result = last.event or last.result
        self.completed_at = now
        self._set_status("completed", now, "all steps done")

    def agency_refusal(self) -> tuple[int, str] | None:
        """(status, the agency's words) when a step failed because an agency refused the
        matter (a 4xx answer: not the applicant's to ask, invalid for the agency…)."""
        if self.status not in ("failed", "compensating"):
            return None
        for step in self.steps:
            if step.status == "failed" and step.error:
                found = _REFUSED.search(step.error)
                if found is not None:
                    return int(found.group(1)), step.error[: found.start()].strip()
        return None

    def _fail_step(self, step: Step, error: str, now: datetime, *, actor: str) -> None:
        step.status = "failed"
        step.finished_at = now
        self.done_waits.add(step.seq)
        self.failure_reason = f"{step.name}: {error}"[:1000]
        self._log(now, actor, "step_failed", step=step.name, status="failed", reason=error)
        to_undo = [
            s for s in self.steps if s.status in ("done", "waiting") and s.seq in self._compensable
        ]
        for s in self.steps:
            if s.status == "waiting":
                self.done_waits.add(s.seq)
        if to_undo:
            for s in to_undo:
                s.status = "compensating"
            self._set_status("compensating", now, self.failure_reason)
        else:
            self._finish_failed(now)

    def _finish_failed(self, now: datetime) -> None:
        self.completed_at = now
        self._set_status("failed", now, self.failure_reason)

    def _set_status(self, status: ApplicationStatus, now: datetime, reason: str | None) -> None:
        if status == self.status:
            return
        self.status = status
        self._log(now, "gateway", "status", status=status, reason=reason)
        self.events.append(
            ApplicationStatusChanged(
                application_id=self.id,
                service_code=self.service_code,
                applicant_iin=self.applicant_iin,
                status=status,
                reason=reason,
            )
        )

    def _log(
        self,
        at: datetime,
        actor: str,
        kind: str,
        *,
        step: str | None = None,
        status: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.timeline.append(
            TimelineEntry(at, actor[:100], kind, step, status, reason and reason[:2000])
        )

    # which steps have a compensation (set by the service layer from the plan)
    _compensable: frozenset[int] = frozenset()

    def bind_plan(self, plan: ServicePlan) -> None:
        self._compensable = frozenset(
            s.seq for s in self.steps if s.name != APPLICANT_STEP and plan.step(s.name).compensation
        )


def _short(event_type: str) -> str:
    """``kz.egov.payments.invoice.paid.v1`` → ``payments.invoice.paid``."""
    parts = event_type.split(".")
    return ".".join(parts[2:-1]) if len(parts) > 3 else event_type


def plan_to_json(plan: ServicePlan) -> dict[str, Any]:
    """The plan is kept with the application: a resumed process runs what was submitted."""
    return {
        "code": plan.code,
        "agency": plan.agency,
        "kind": plan.kind,
        "sla_amount": plan.sla_amount,
        "sla_unit": plan.sla_unit,
        "steps": [
            {
                "name": s.name,
                "operation": s.operation,
                "input": dict(s.input),
                "completes_on": s.completes_on,
                "compensation": s.compensation,
                "compensation_input": dict(s.compensation_input),
                "when": s.when,
                "completes_when": {k: list(v) for k, v in s.completes_when.items()},
                "wait_for": list(s.wait_for),
                "fails_when": {k: list(v) for k, v in s.fails_when.items()},
            }
            for s in plan.steps
        ],
    }


def plan_from_json(data: Mapping[str, Any]) -> ServicePlan:
    return ServicePlan(
        code=data["code"],
        agency=data["agency"],
        kind=data["kind"],
        sla_amount=int(data["sla_amount"]),
        sla_unit=data["sla_unit"],
        steps=[
            StepPlan(
                name=s["name"],
                operation=s["operation"],
                input=s.get("input") or {},
                completes_on=s.get("completes_on"),
                compensation=s.get("compensation"),
                compensation_input=s.get("compensation_input") or {},
                when=s.get("when"),
                completes_when=s.get("completes_when") or {},
                wait_for=tuple(s.get("wait_for") or ()),
                fails_when=s.get("fails_when") or {},
            )
            for s in data["steps"]
        ],
    )
