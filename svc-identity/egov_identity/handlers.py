"""Event handlers of svc-identity, registered per event type."""

from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()
