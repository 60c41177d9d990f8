"""Contracts between services: event payloads (versioned, registered) and the request and
response shapes of the fixed agency paths other services rely on (DESIGN §4.2, §5).

One module per producing service. The producing service owns its module: it may add
optional fields and new event types; a breaking change is a new ``.v<N+1>`` type. Importing
this package registers every event type (the AsyncAPI catalogue is built from them).
"""

from meshkit.contracts import (
    common,
    diagnostics,
    gateway,
    identity,
    licensing,
    notary,
    payments,
    registry,
)

__all__ = [
    "common",
    "diagnostics",
    "gateway",
    "identity",
    "licensing",
    "notary",
    "payments",
    "registry",
]
