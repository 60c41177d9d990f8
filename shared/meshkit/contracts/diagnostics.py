"""Diagnostics every service produces: the mesh echo (``meshkit.echo``, dev mode only)."""

from __future__ import annotations

from meshkit.events import EventData, event_type

SERVICES = ("gateway", "identity", "registry", "licensing", "payments", "notary")


class EchoSent(EventData):
    """A service sent a diagnostic echo through the mesh."""

    echo_id: str
    message: str
    from_service: str


#: one type per service (``kz.egov.<svc>.mesh_echo.sent.v1``): each is written to its own topic
ECHO_EVENTS: dict[str, type[EchoSent]] = {
    svc: event_type(
        f"kz.egov.{svc}.mesh_echo.sent.v1",
        description=f"svc-{svc} sent a diagnostic echo",
    )(type(f"{svc.capitalize()}EchoSent", (EchoSent,), {"__doc__": EchoSent.__doc__}))
    for svc in SERVICES
}
