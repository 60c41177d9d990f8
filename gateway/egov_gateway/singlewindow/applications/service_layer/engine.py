"""The durable process engine: drives applications step by step through the routed exchange.

Durability: every transition is committed (application state + outbox events, one
transaction) before the next I/O. A step is marked ``calling`` before its request leaves, so
a gateway that dies mid-call finds it ``calling`` on restart and calls again (payments and
other writes carry an ``Idempotency-Key`` derived from the application and the step). Steps
waiting for an agency event are completed by the event handlers (``handlers.py``); the engine
only drives what is actionable. :meth:`ProcessEngine.sweep` (at start and then periodically)
resumes every active application and flags the overdue ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from egov_gateway.settings import ApplicationsSettings
from egov_gateway.singlewindow.applications.adapters.repository import ApplicationRepository
from egov_gateway.singlewindow.applications.domain.model import (
    Application,
    ConcurrentUpdate,
    build_request,
    is_set,
    plan_from_json,
    resolve,
)
from egov_gateway.singlewindow.applications.domain.ports import StepCaller
from meshkit.errors import RuleViolation
from meshkit.messaging.uow import UnitOfWork

log = structlog.get_logger("egov_gateway.applications.engine")


class ApplicationsUnitOfWork(UnitOfWork):
    applications: ApplicationRepository

    def init_repositories(self, session: Any) -> None:
        self.applications = ApplicationRepository(session)


Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def publish(uow: UnitOfWork, app: Application) -> None:
    """Hand the aggregate's new events to the outbox of the open unit of work."""
    for data in app.events:
        # caused by the request or event at hand; the engine's own moves: by the application
        uow.emit(
            data, subject=app.id, correlation_id=app.id, causation_id=uow.causation_id or app.id
        )
    app.events = []


class ProcessEngine:
    def __init__(
        self,
        uows: Callable[[], ApplicationsUnitOfWork],
        caller: StepCaller,
        settings: ApplicationsSettings,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.uows = uows
        self.caller = caller
        self.settings = settings
        self.clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._stopped = False

    # -- scheduling -----------------------------------------------------------------------
    def kick(self, application_id: str) -> None:
        """Drive this application now (or once more, if it is being driven)."""
        if self._stopped:
            return
        task = self._tasks.get(application_id)
        if task is not None and not task.done():
            self._again.add(application_id)
            return
        self._tasks[application_id] = asyncio.create_task(
            self._drive_guarded(application_id), name=f"application-{application_id}"
        )

    async def _drive_guarded(self, application_id: str) -> None:
        try:
            while True:
                self._again.discard(application_id)
                await self.drive(application_id)
                if application_id not in self._again or self._stopped:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            # the sweep resumes it: state is in the database, nothing is lost
            log.exception("application.drive_failed", application_id=application_id)
        finally:
            self._tasks.pop(application_id, None)

    async def settle(self, application_id: str, within: float) -> None:
        """Wait at most ``within`` s until the engine has nothing more to do for this
        application now (done, failed, or waiting for an event or a retry)."""
        task = self._tasks.get(application_id)
        if task is None or within <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), within)

    async def idle(self) -> None:
        """Wait until no application is being driven (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self) -> None:
        self._stopped = True
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(BaseException):
                await task

    async def sweep(self) -> None:
        """Resume every active application; flag those past their term (once)."""
        now = self.clock()
        async with self.uows() as uow:
            active = await uow.applications.active_ids()
            overdue = await uow.applications.overdue_ids(now)
        for application_id in overdue:
            await self.mutate(application_id, lambda app: app.mark_overdue(now))
        for application_id in active:
            self.kick(application_id)

    async def sweep_loop(self) -> None:
        while not self._stopped:
            try:
                await self.sweep()
            except Exception:
                log.exception("applications.sweep_failed")
            await asyncio.sleep(self.settings.sweep_interval_s)

    # -- transitions ----------------------------------------------------------------------
    async def mutate(
        self, application_id: str, change: Callable[[Application], Any]
    ) -> Application | None:
        """Load, apply ``change``, save with its events — retried on a concurrent update."""
        for _ in range(20):
            async with self.uows() as uow:
                app = await uow.applications.get(application_id, with_timeline=False)
                if app is None:
                    return None
                app.bind_plan(plan_from_json(app.context["plan"]))
                change(app)
                try:
                    await uow.applications.save(app)
                    publish(uow, app)
                    await uow.commit()
                    return app
                except ConcurrentUpdate:
                    continue
        raise ConcurrentUpdate(f"application {application_id} keeps changing")

    async def drive(self, application_id: str) -> None:
        while not self._stopped and await self._advance(application_id):
            pass

    async def _advance(self, application_id: str) -> bool:
        """Perform the next action of one application; False when there is nothing to do."""
        async with self.uows() as uow:
            app = await uow.applications.get(application_id, with_timeline=False)
        if app is None:
            return False
        plan = plan_from_json(app.context["plan"])
        app.bind_plan(plan)
        action = app.next_action(plan)
        if action.kind in ("wait", "finished") or action.step is None:
            return False
        step = action.step
        seq = step.seq
        step_plan = app.plan_of(plan, step)
        purpose = f"application {app.id}: {app.service_code}, step {step.name}"
        if action.kind == "compensate":
            await self._compensate(application_id, app, seq, purpose)
            return True
        if step.status == "pending" and step.attempts > 0:  # a retry
            if self._gave_up(step.started_at):
                error = step.error or "unavailable"
                await self.mutate(application_id, lambda a: self._refuse(a, seq, error))
                return True
            await asyncio.sleep(self.settings.step_retry_backoff_s)
        if step_plan.when and not is_set(resolve(step_plan.when, app.scope())):
            reason = f"not requested ({step_plan.when} is not given)"
            await self.mutate(application_id, lambda a: a.skip(a.steps[seq], reason, self.clock()))
            return True
        try:
            request = build_request(step_plan.operation, step_plan.input, app.scope())
        except RuleViolation as exc:
            detail = exc.detail
            await self.mutate(application_id, lambda a: self._refuse(a, seq, detail))
            return True
        request_id = f"{app.id}.{seq}.{step.attempts + 1}"
        now = self.clock()
        begun = await self.mutate(
            application_id,
            lambda a: (
                a.begin_call(a.steps[seq], request, request_id, step_plan, now)
                if a.steps[seq].status in ("pending", "calling")
                else None
            ),
        )
        if begun is None or begun.steps[seq].status != "calling":
            return True
        outcome = await self.caller.call(
            request,
            on_behalf_of=app.applicant_iin,
            purpose=purpose,
            request_id=request_id,
            idempotency_key=f"{app.id}:{step.name}",
            application_id=app.id,
            service_code=app.service_code,
        )
        if outcome.ok:
            await self.mutate(
                application_id,
                lambda a: a.call_succeeded(a.steps[seq], outcome.body, step_plan, self.clock()),
            )
        else:
            retry = outcome.retryable and not self._gave_up(begun.steps[seq].started_at)
            error = f"{outcome.detail} ({outcome.status})"
            await self.mutate(
                application_id,
                lambda a: a.call_failed(a.steps[seq], error, retry=retry, now=self.clock()),
            )
        return True

    def _refuse(self, app: Application, seq: int, detail: str) -> None:
        step = app.steps[seq]
        if step.status == "pending":
            step.status = "calling"
            step.attempts += 1
        app.call_failed(step, detail, retry=False, now=self.clock())

    def _gave_up(self, since: datetime | None) -> bool:
        if since is None:
            return False
        return (self.clock() - since).total_seconds() > self.settings.step_retry_for_s

    async def _compensate(
        self, application_id: str, app: Application, seq: int, purpose: str
    ) -> None:
        plan = plan_from_json(app.context["plan"])
        step = app.steps[seq]
        step_plan = app.plan_of(plan, step)
        if not step_plan.compensation:
            await self.mutate(
                application_id,
                lambda a: a.compensation_finished(
                    a.steps[seq], True, "nothing to undo", self.clock()
                ),
            )
            return
        try:
            request = build_request(
                step_plan.compensation, step_plan.compensation_input, app.scope()
            )
        except RuleViolation as exc:
            detail = exc.detail
            await self.mutate(
                application_id,
                lambda a: a.compensation_finished(a.steps[seq], False, detail, self.clock()),
            )
            return
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome = await self.caller.call(
                request,
                on_behalf_of=app.applicant_iin,
                purpose=f"{purpose} (compensation)",
                request_id=f"{app.id}.{seq}.undo.{attempt}",
                idempotency_key=f"{app.id}:{step.name}:undo",
                application_id=app.id,
                service_code=app.service_code,
            )
            if outcome.ok or not outcome.retryable or self._stopped:
                break
            if time.monotonic() - started > self.settings.step_retry_for_s:
                break
            await asyncio.sleep(self.settings.step_retry_backoff_s)
        detail = (
            f"{request.method} {request.agency}{request.path}"
            if outcome.ok
            else f"{outcome.detail} ({outcome.status})"
        )
        await self.mutate(
            application_id,
            lambda a: a.compensation_finished(a.steps[seq], outcome.ok, detail, self.clock()),
        )
