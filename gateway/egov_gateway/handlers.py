"""Event handlers of the gateway, registered per event type."""

from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()
