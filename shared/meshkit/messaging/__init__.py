"""Reliable messaging: transactional outbox, relay to Kafka, idempotent consumer (inbox)."""

from meshkit.messaging.consumer import EventConsumer
from meshkit.messaging.handlers import HandlerRegistry
from meshkit.messaging.relay import OutboxRelay
from meshkit.messaging.tables import inbox, messaging_metadata, outbox, outbox_journal, outbox_sent
from meshkit.messaging.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "EventConsumer",
    "HandlerRegistry",
    "OutboxRelay",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "inbox",
    "messaging_metadata",
    "outbox",
    "outbox_journal",
    "outbox_sent",
]
