"""Event handlers of the gateway, registered per event type."""

from meshkit.messaging import HandlerRegistry

handlers = HandlerRegistry()

# the single window: proactive offers from life events; the citizens' notification inbox
from egov_gateway.singlewindow.notifications.service_layer.handlers import notification_handlers  # noqa: E402
from egov_gateway.singlewindow.offers.service_layer.handlers import offer_handlers  # noqa: E402

handlers.merge(offer_handlers)
handlers.merge(notification_handlers)

# applications: agency events complete the waiting steps of composite services
from egov_gateway.singlewindow.applications.service_layer.handlers import (  # noqa: E402
    handlers as application_handlers,
)

handlers.merge(application_handlers)

# identity's revocations (logout, password change, lock, retired signing key): recorded in
# gateway_revocations, which every replica's deny list polls (exchange/adapters/revocation.py)
from egov_gateway.exchange.service_layer.revocation_handlers import revocation_handlers  # noqa: E402

handlers.merge(revocation_handlers)
