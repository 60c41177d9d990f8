"""Service layer of applications: submit, read, list, rate, correlate agency events.

Thin: each use case opens a unit of work, asks the aggregate, saves it and its events
together, and kicks the process engine. ``submit_application`` is also the entry point of
the proactive offers (a citizen accepting an offer applies with the data the state holds).
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from jsonschema import Draft202012Validator
from sqlalchemy import event as sa_event

from egov_gateway.register.domain.contracts import FORMATS, submission_errors
from egov_gateway.register.domain.model import PublicService
from egov_gateway.singlewindow.applications.adapters.repository import ApplicationRepository
from egov_gateway.singlewindow.applications.domain.model import (
    EVENT_ONLY_ID_FIELDS,
    Application,
    ConcurrentUpdate,
    ServicePlan,
    StepPlan,
    id_values,
    plan_from_json,
    plan_to_json,
    simple_step,
)
from egov_gateway.singlewindow.applications.service_layer.engine import (
    ApplicationsUnitOfWork,
    Clock,
    ProcessEngine,
    publish,
)
from egov_gateway.singlewindow.applications.service_layer.views import (
    ApplicationList,
    ApplicationView,
    summary,
    view,
)
from meshkit.auth.principal import Principal
from meshkit.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RuleViolation,
    UpstreamUnavailable,
)
from meshkit.events import TypedEvent
from meshkit.messaging.uow import UnitOfWork
from meshkit.service import ServiceRuntime

log = structlog.get_logger("egov_gateway.applications")

# "centre": an operator of a public service centre applied with the citizen's consent
ORIGINS = frozenset({"portal", "mobile", "offer", "public_service_center", "api", "centre"})


@dataclass
class Applications:
    """What the use cases need; built by the gateway's composition root (``bootstrap.py``)."""

    uows: Any  # Callable[[], ApplicationsUnitOfWork]
    register: Any  # UnifiedRegister: ``await register.service(code)``
    engine: ProcessEngine
    clock: Clock

    def new_uow(self) -> ApplicationsUnitOfWork:
        return cast(ApplicationsUnitOfWork, self.uows())


#: engines by session factory: an event handler (given only its unit of work) kicks the engine
#: of the gateway whose consumer runs it
_ENGINES: weakref.WeakValueDictionary[int, ProcessEngine] = weakref.WeakValueDictionary()


def register_engine(session_factory: object, engine: ProcessEngine) -> None:
    _ENGINES[id(session_factory)] = engine


def applications_of(runtime: ServiceRuntime) -> Applications:
    # the composition root's components carry them (``Components.applications``); looked up
    # by attribute so that this layer does not import the root above it
    ctx = getattr(runtime.components, "applications", None)
    if not isinstance(ctx, Applications):
        raise UpstreamUnavailable("the gateway is still starting", retry_after_s=1)
    return ctx


# -- plans from the register -----------------------------------------------------------------
def plan_of(service: PublicService) -> ServicePlan:
    if service.steps:  # a composite, or a simple service with an explicit mapping
        steps = [
            StepPlan(
                name=s.name,
                operation=s.operation.id,
                input=s.input,
                completes_on=s.completes_on,
                compensation=s.compensation.id if s.compensation else None,
                compensation_input=s.compensation_input,
                when=s.when,
                completes_when=s.completes_when,
                wait_for=tuple(s.wait_for),
                fails_when=s.fails_when,
            )
            for s in service.steps
        ]
    else:
        if not service.operations:
            raise RuleViolation(f"{service.code} names no operation to run")
        props = (service.input_schema or {}).get("properties") or {}
        steps = [simple_step(service.operations[0].id, list(props))]
    return ServicePlan(
        code=service.code,
        agency=service.agency,
        kind=service.kind,
        steps=steps,
        sla_amount=service.sla.amount,
        sla_unit=service.sla.unit,
    )


def validate_payload(schema: dict[str, Any], payload: dict[str, Any]) -> None:
    """The payload against the service's form; ``format`` iin/bin/iin-or-bin check the check
    digit (meshkit.ids), date/uuid/… as JSON Schema defines them."""
    validator = Draft202012Validator(schema or {"type": "object"}, format_checker=FORMATS)
    errors: dict[str, str] = {}
    for err in sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required" and isinstance(err.validator_value, list):
            for name in err.validator_value:
                if name not in (err.instance or {}):
                    errors.setdefault(f"payload.{path + '.' if path else ''}{name}", "required")
            continue
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set((err.schema or {}).get("properties") or {})
            for name in err.instance:
                if name not in allowed:
                    errors.setdefault(
                        f"payload.{path + '.' if path else ''}{name}", "not a field of this service"
                    )
            continue
        errors.setdefault(f"payload.{path}" if path else "payload", err.message[:300])
    if errors:
        raise RuleViolation("the application is not valid for this service", errors=errors)


def validate_for_agency(
    ctx: Applications,
    service: PublicService,
    payload: dict[str, Any],
    applicant_iin: str,
    application_id: str,
    now: datetime,
) -> None:
    """The payload mapped onto the first agency step (a simple service's only one) against the
    operation's request the agency published: what the agency would refuse is a 422 now
    (``payload.<field>``), not a failed application later. No document fetched yet: skipped."""
    snapshot = getattr(ctx.register, "snapshot", None)
    documents = getattr(snapshot, "documents", None) or {}
    docs = {code: d.document for code, d in documents.items()}
    scope = {
        "payload": payload,
        "applicant": applicant_iin,
        "application_id": application_id,
        "submitted_at": now,
        "steps": {},
    }
    errors = submission_errors(service, payload, applicant_iin, docs, scope=scope)
    if errors:
        raise RuleViolation(
            f"the application is not valid for {service.agency}'s {service.code}", errors=errors
        )


# -- use cases ---------------------------------------------------------------------------------
async def submit_application(
    runtime: ServiceRuntime,
    applicant_iin: str,
    service_code: str,
    payload: dict[str, Any],
    *,
    origin: str = "portal",
) -> ApplicationView:
    """Submit an application on behalf of ``applicant_iin`` (the caller has authenticated
    them); validates the payload against the service's input schema and starts the process."""
    ctx = applications_of(runtime)
    return await submit(ctx, applicant_iin, service_code, payload, origin=origin)


async def submit(
    ctx: Applications,
    applicant_iin: str,
    service_code: str,
    payload: dict[str, Any],
    *,
    origin: str = "portal",
    answer_within_s: float = 0.0,
    channel: dict[str, Any] | None = None,
) -> ApplicationView:
    """``answer_within_s``: wait that long for the agencies' first answers, and answer an
    agency's refusal of the matter (403/4xx) at submission rather than later."""
    if origin not in ORIGINS:
        raise RuleViolation(f"unknown origin {origin!r}", errors={"origin": "unknown"})
    try:
        service: PublicService = await ctx.register.service(service_code)
    except NotFound:
        raise RuleViolation(
            f"there is no public service {service_code!r} in the register",
            errors={"service_code": "unknown service"},
        ) from None
    if service.status != "active":
        raise RuleViolation(
            f"{service_code} is withdrawn", errors={"service_code": "withdrawn service"}
        )
    if not service.citizen_facing:
        raise PermissionDenied(f"{service_code} is not a service citizens apply for")
    validate_payload(service.input_schema, payload)
    application_id = str(uuid.uuid4())
    now = ctx.clock()
    validate_for_agency(ctx, service, payload, applicant_iin, application_id, now)
    plan = plan_of(service)
    app = Application.submit(
        id=application_id,
        plan=plan,
        applicant_iin=applicant_iin,
        payload=payload,
        origin=origin,
        now=now,
    )
    app.context["plan"] = plan_to_json(plan)
    if channel:  # who applied where, and the consent they applied on (centre)
        app.context["channel"] = channel
    async with ctx.new_uow() as uow:
        await uow.applications.add(app)
        publish(uow, app)
        await uow.commit()
    log.info("application.submitted", application_id=app.id, service=service_code, origin=origin)
    ctx.engine.kick(app.id)
    if answer_within_s > 0:
        await ctx.engine.settle(app.id, answer_within_s)
        async with ctx.new_uow() as uow:
            now_app = await uow.applications.get(app.id)
        if now_app is not None:
            refused = now_app.agency_refusal()
            if refused is not None:
                status, words = refused
                if status in (401, 403):
                    raise PermissionDenied(words)
                if status == 404:
                    raise NotFound(words)
                if status == 409:
                    raise Conflict(words)
                raise RuleViolation(words)
            return view(now_app)
    return view(app)


def _may_read(app: Application, principal: Principal) -> bool:
    return principal.kind == "operator" or (
        principal.kind == "citizen" and principal.subject == app.applicant_iin
    )


async def get_application(
    ctx: Applications, application_id: str, principal: Principal
) -> ApplicationView:
    async with ctx.new_uow() as uow:
        app = await uow.applications.get(application_id)
    # someone else's application is as unknown as a missing one (no probing of ids)
    if app is None or not _may_read(app, principal):
        raise NotFound(f"you have no application {application_id}")
    return view(app)


async def list_applications(
    ctx: Applications, applicant_iin: str, *, limit: int, offset: int
) -> ApplicationList:
    async with ctx.new_uow() as uow:
        apps = await uow.applications.list_for(applicant_iin, limit=limit, offset=offset)
    return ApplicationList(items=[summary(a) for a in apps], limit=limit, offset=offset)


async def rate_application(
    ctx: Applications, application_id: str, applicant_iin: str, stars: int, comment: str | None
) -> ApplicationView:
    now = ctx.clock()
    async with ctx.new_uow() as uow:
        app = await uow.applications.get(application_id)
        if app is None or app.applicant_iin != applicant_iin:
            raise NotFound(f"you have no application {application_id}")
        app.rate(stars, comment, now)
        await uow.applications.save(app)
        publish(uow, app)
        await uow.commit()
    return view(app)


# -- agency events complete waiting steps ---------------------------------------------------------
async def _step_event_arrived(
    uow: UnitOfWork,
    repo: ApplicationRepository,
    application_id: str,
    seq: int,
    event_type: str,
    data: dict[str, Any],
    actor: str,
    now: datetime,
) -> bool:
    """Hand the event to the application's waiting step; True if the application changed.

    The engine may move the same application on meanwhile, in its own transaction (a step
    it was calling answered): then the application is read again — each statement sees
    what is committed — and the event applied to that, as the engine's own transitions
    retry, instead of failing the consumer's whole batch."""
    for _ in range(20):
        app = await repo.get(application_id, with_timeline=False)
        if app is None:
            return False
        plan = plan_from_json(app.context["plan"])
        app.bind_plan(plan)
        if not app.event_arrived(seq, event_type, data, actor, plan, now):
            return False
        try:
            await repo.save(app)
        except ConcurrentUpdate:
            continue
        publish(uow, app)
        return True
    raise ConcurrentUpdate(f"application {application_id} keeps changing")


def match_keys(event: TypedEvent[Any]) -> list[str]:
    env = event.envelope
    data = event.data.model_dump(mode="json")
    keys = []
    if env.correlationid:
        keys.append(f"corr:{env.correlationid}")
    # a step waits on its request id (``corr:<request id>``): agencies name it as the cause
    # of what the request wrote (their correlationid is the application's since issue 19)
    if env.causationid and env.causationid != env.correlationid:
        keys.append(f"corr:{env.causationid}")
    ids = id_values(data)
    ids += [str(data[k]) for k in EVENT_ONLY_ID_FIELDS if isinstance(data.get(k), str) and data[k]]
    if env.subject:
        ids.append(str(env.subject))
    keys += [f"id:{v}" for v in dict.fromkeys(ids)]
    return keys


async def on_agency_event(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    """Handler (inside the consumer's unit of work): complete or fail the steps waiting for it."""
    env = event.envelope
    repo = ApplicationRepository(uow.session)
    matches = await repo.waiting_for(env.type, match_keys(event))
    if not matches:
        return
    now = datetime.now(UTC)
    actor = (env.source or "").removeprefix("/svc-") or "agency"
    data = event.data.model_dump(mode="json")
    kicked: list[str] = []
    for application_id, seq in matches:
        if await _step_event_arrived(uow, repo, application_id, seq, env.type, data, actor, now):
            kicked.append(application_id)
    if kicked:
        engine = _ENGINES.get(id(getattr(uow, "_session_factory", None)))
        if engine is not None:
            session = uow.session.sync_session

            def after_commit(_session: object) -> None:
                for application_id in kicked:
                    engine.kick(application_id)

            sa_event.listen(session, "after_commit", after_commit, once=True)
