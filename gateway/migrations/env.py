from egov_gateway.exchange.adapters import audit_tables as _audit_tables  # noqa: F401
from egov_gateway.exchange.adapters import revocation as _revocation_tables  # noqa: F401  (registers it)
from egov_gateway.orm import metadata
from egov_gateway.register.adapters import tables as _register_tables  # noqa: F401  (registers them)
from egov_gateway.singlewindow.applications.adapters import (  # noqa: F401  (registers them)
    tables as _application_tables,
)
from egov_gateway.singlewindow.notifications.adapters import tables as _notification_tables  # noqa: F401
from egov_gateway.singlewindow.offers.adapters import tables as _offer_tables  # noqa: F401
from meshkit.migrations import run_env

run_env(metadata)
