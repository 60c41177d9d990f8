"""Mesh echo: a diagnostic that proves the event pipeline end to end on a running mesh.

``POST /mesh/echo`` in any service writes an echo and its event in one transaction (outbox);
every service consumes every echo (inbox) and records it, so ``GET /mesh/echo/{id}`` on any
service shows who received what. Enabled in dev mode only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select

# the echo events live with the contracts so that the catalogue lists them wherever it is built
from meshkit.contracts.diagnostics import ECHO_EVENTS, SERVICES, EchoSent
from meshkit.errors import NotFound
from meshkit.events import TypedEvent
from meshkit.messaging.handlers import HandlerRegistry
from meshkit.messaging.uow import UnitOfWork
from meshkit.problems import PROBLEM_RESPONSES

__all__ = ["ECHO_EVENTS", "SERVICES", "EchoSent", "echo_handlers", "echo_router"]


echo_metadata = MetaData()
echo_sent = Table(
    "mesh_echo_sent",
    echo_metadata,
    Column("id", String(64), primary_key=True),
    Column("message", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
echo_received = Table(
    "mesh_echo_received",
    echo_metadata,
    Column("event_id", String(64), primary_key=True),
    Column("echo_id", String(64), nullable=False, index=True),
    Column("from_service", String(50), nullable=False),
    Column("message", String(500), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


echo_handlers = HandlerRegistry()


@echo_handlers.on(*ECHO_EVENTS.values())
async def record_echo(event: TypedEvent[Any], uow: UnitOfWork) -> None:
    data: EchoSent = event.data
    await uow.session.execute(
        insert(echo_received).values(
            event_id=event.id,
            echo_id=data.echo_id,
            from_service=data.from_service,
            message=data.message,
            received_at=datetime.now(UTC),
        )
    )


class EchoRequest(BaseModel):
    message: str = Field(min_length=1, max_length=500, examples=["Сәлем, Қазақстан!"])


class EchoAccepted(BaseModel):
    id: str
    message: str


class EchoReceipt(BaseModel):
    echo_id: str
    from_service: str
    message: str
    received_at: datetime


def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.runtime.uow_factory()
    return uow


def echo_router(service: str) -> APIRouter:
    router = APIRouter(prefix="/mesh/echo", tags=["diagnostics"], responses=PROBLEM_RESPONSES)
    event_cls = ECHO_EVENTS[service]

    @router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=EchoAccepted)
    async def send_echo(
        body: EchoRequest, uow: Annotated[UnitOfWork, Depends(_uow)]
    ) -> EchoAccepted:
        echo_id = str(uuid.uuid4())
        async with uow:
            await uow.session.execute(
                insert(echo_sent).values(
                    id=echo_id, message=body.message, created_at=datetime.now(UTC)
                )
            )
            uow.emit(
                event_cls(echo_id=echo_id, message=body.message, from_service=service),
                subject=echo_id,
            )
            await uow.commit()
        return EchoAccepted(id=echo_id, message=body.message)

    @router.get("/{echo_id}", response_model=list[EchoReceipt])
    async def echo_receipts(
        echo_id: str, uow: Annotated[UnitOfWork, Depends(_uow)]
    ) -> list[EchoReceipt]:
        async with uow:
            rows = (
                (
                    await uow.session.execute(
                        select(echo_received).where(echo_received.c.echo_id == echo_id)
                    )
                )
                .mappings()
                .all()
            )
        if not rows:
            raise NotFound(f"service {service} has received no echo {echo_id} (yet)")
        return [EchoReceipt.model_validate(dict(r)) for r in rows]

    return router
