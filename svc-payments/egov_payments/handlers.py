"""Event handlers of svc-payments, registered per event type."""

from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()
