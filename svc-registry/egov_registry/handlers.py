"""Event handlers of svc-registry, registered per event type."""

from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()
