"""Event handlers of svc-licensing, registered per event type."""

from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()
