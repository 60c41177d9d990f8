"""Handlers registered per message type (one registry per service)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from meshkit.events import EventData, TypedEvent
from meshkit.messaging.uow import UnitOfWork

Handler = Callable[[TypedEvent[Any], Any], Awaitable[None]]
H = TypeVar("H", bound=Handler)


class HandlerRegistry:
    """``@handlers.on(BirthRegistered)`` registers an async ``handler(event, uow)``."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._models: dict[str, type[EventData]] = {}

    def on(self, *models: type[EventData]) -> Callable[[H], H]:
        def wrap(fn: H) -> H:
            for model in models:
                self._handlers.setdefault(model.event_type, []).append(fn)
                self._models[model.event_type] = model
            return fn

        return wrap

    def handlers_for(self, event_type: str) -> list[Handler]:
        return self._handlers.get(event_type, [])

    def model_for(self, event_type: str) -> type[EventData] | None:
        return self._models.get(event_type)

    @property
    def event_types(self) -> list[str]:
        return sorted(self._handlers)

    def producers(self) -> set[str]:
        """Services whose topics must be subscribed to."""
        return {m.producer() for m in self._models.values()}

    def merge(self, other: HandlerRegistry) -> None:
        for t, hs in other._handlers.items():
            self._handlers.setdefault(t, []).extend(hs)
        self._models.update(other._models)

    def __bool__(self) -> bool:
        return bool(self._handlers)


async def dispatch(registry: HandlerRegistry, event: TypedEvent[Any], uow: UnitOfWork) -> None:
    for handler in registry.handlers_for(event.envelope.type):
        await handler(event, uow)
