"""Which headers cross the gateway, and the X-Road identifiers of §4.2a."""

from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 9110 §7.6.1 hop-by-hop headers, plus what the gateway itself sets or must never pass on
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# never forwarded to an agency: the caller's credentials, its cookies, and every header whose
# value the gateway vouches for (a caller cannot smuggle its own assertion or identity)
STRIP_REQUEST = HOP_BY_HOP | {
    "host",
    "expect",
    "authorization",
    "cookie",
    "x-request-id",
    "traceparent",
    "x-mesh-client",
    "x-mesh-user",
    "x-mesh-purpose",
    "x-mesh-assertion",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "forwarded",
}
#: an agency names whose data an answer holds (``meshkit.routed.DATA_SUBJECT_HEADER``) for the
#: audit and the citizen's data tracker; the gateway records it and does not pass it on
STRIP_RESPONSE = HOP_BY_HOP | {
    "date",
    "server",
    "x-request-id",
    "set-cookie",
    "x-mesh-data-subject",
}
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]

_IDENT = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")

#: the X-Road service code of a member's whole API (every operation it publishes), next to
#: the register's public services (``/r1/.../{serviceCode}/...``, ``listMethods``)
WHOLE_API = "api"


def connection_tokens(value: str | None) -> frozenset[str]:
    """Headers a sender declared hop-by-hop in its Connection header."""
    if not value:
        return frozenset()
    return frozenset(t.strip().lower() for t in value.split(",") if t.strip())


@dataclass(frozen=True)
class XRoadClient:
    """``X-Road-Client: KZ/GOV/<BIN>/<subsystem>`` — who calls, X-Road style."""

    instance: str
    member_class: str
    member_code: str
    subsystem: str

    @classmethod
    def parse(cls, value: str) -> XRoadClient | None:
        parts = value.strip().split("/")
        if len(parts) != 4 or not all(_IDENT.match(p) for p in parts):
            return None
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member_code}/{self.subsystem}"


@dataclass(frozen=True)
class XRoadService:
    """The addressed service: ``/r1/{instance}/{memberClass}/{memberCode}/{subsystem}/{serviceCode}``.

    X-Road REST service ids carry no version (``serviceCode`` only). The code names a public
    service of the register whose operations include the addressed one, or ``api``: exactly
    what the directory's ``listMethods`` lists for the provider (``runs_operation``)."""

    instance: str
    member_class: str
    member_code: str
    subsystem: str
    service_code: str

    def valid(self) -> bool:
        return all(
            _IDENT.match(p)
            for p in (
                self.instance,
                self.member_class,
                self.member_code,
                self.subsystem,
                self.service_code,
            )
        )

    def __str__(self) -> str:
        return (
            f"{self.instance}/{self.member_class}/{self.member_code}/"
            f"{self.subsystem}/{self.service_code}"
        )

    def runs_operation(self, service_code: str | None, service_codes: tuple[str, ...]) -> bool:
        """Whether this service lists an operation that belongs to ``service_code`` (its first
        service) and ``service_codes`` (every service running it)."""
        code = self.service_code
        return code in (WHOLE_API, service_code) or code in service_codes


def xroad_user(value: str | None) -> str | None:
    """``X-Road-UserId`` carries the person, often prefixed by the country (``KZ<IIN>``)."""
    if not value:
        return None
    value = value.strip()
    if value[:2].upper() == "KZ" and value[2:].isdigit():
        return value[2:]
    return value or None
