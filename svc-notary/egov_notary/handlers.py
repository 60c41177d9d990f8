"""Event handlers of svc-notary, registered per event type."""

from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()
