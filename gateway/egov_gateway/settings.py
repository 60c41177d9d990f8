import ipaddress
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import SettingsConfigDict

from meshkit.limits import DEFAULT_MAX_BODY_BYTES
from meshkit.settings import ServiceSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# the areas' options live here, on the ground floor, so that nothing here imports an area
class RegisterSettings(BaseModel):
    """Tuning of the register (``GATEWAY_REGISTER_OPTIONS__<NAME>``)."""

    seed: bool = Field(default=True, description="seed members, services and grants when absent")
    background: bool = Field(default=True, description="run the refresh/probe/reload loops")
    openapi_refresh_s: float = Field(default=300.0, gt=0, description="re-fetch every OpenAPI")
    openapi_retry_s: float = Field(
        default=5.0, gt=0, description="retry sooner while a member has no document yet"
    )
    probe_interval_s: float = Field(default=15.0, gt=0, description="readiness probe period")
    probe_timeout_s: float = Field(default=3.0, gt=0)
    probe_failures_to_open: int = Field(
        default=2, ge=1, description="consecutive failed probes that open an outage"
    )
    reload_poll_s: float = Field(
        default=2.0, gt=0, description="how often to look for changes made by another instance"
    )


class ApplicationsSettings(BaseModel):
    """Applications and the process engine (``GATEWAY_APPLICATIONS__<NAME>``)."""

    engine: bool = Field(default=True, description="run the process engine in this instance")
    step_retry_for_s: float = Field(
        default=120.0,
        ge=0,
        description="a step whose agency is unavailable is retried this long, then fails",
    )
    step_retry_backoff_s: float = Field(default=1.0, gt=0)
    sweep_interval_s: float = Field(
        default=5.0, gt=0, description="resume stalled processes and detect overdue ones"
    )
    call_timeout_s: float = Field(default=30.0, gt=0)
    answer_within_s: float = Field(
        default=5.0,
        ge=0,
        le=30,
        description="a submission waits this long for the agencies' first answers, so that a "
        "refusal (not yours to ask, not your child…) is answered at the door, not later",
    )


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")
    service_name: ClassVar[str] = "gateway"
    port: int = 8000
    signing_key_pem: str | None = Field(
        default=None, description="PEM private key (Ed25519 or P-256) for X-Mesh-Assertion"
    )
    signing_key_file: Path | None = None
    additional_public_keys_pem: str | None = Field(
        default=None,
        description="PEM public keys (one or more blocks) published in the gateway's JWKS "
        "next to the signing key's: the next key before a rotation, the previous one after "
        "(deploy/RUNBOOK.md §3.1)",
    )
    additional_public_keys_file: Path | None = None

    # -- the Unified Register ----------------------------------------------------------------
    admin_token: str | None = Field(
        default=None,
        description="bearer token of the operators' admin API (dev mode: generated)",
    )
    agency_urls: dict[str, str] = Field(
        default_factory=dict,
        description="base URL per agency, overriding http://127.0.0.1:8001..8005 "
        "(GATEWAY_AGENCY_URLS__registry=… or GATEWAY_AGENCY_URLS='{\"registry\": …}')",
    )
    register_options: RegisterSettings = Field(
        default_factory=RegisterSettings, description="GATEWAY_REGISTER_OPTIONS__<NAME>"
    )
    # -- the single window: applications and the process engine ------------------------------
    applications: ApplicationsSettings = Field(
        default_factory=ApplicationsSettings, description="GATEWAY_APPLICATIONS__<NAME>"
    )
    # -- routed exchange: authentication ------------------------------------------------
    identity_issuer: str | None = Field(
        default=None, description="`iss` of citizen/agency tokens; default: identity_url"
    )
    identity_jwks_url: str | None = Field(
        default=None, description="identity's JWKS; default <identity_url>/.well-known/jwks.json"
    )
    token_audience: str = "egov-mesh"
    jwks_cache_ttl_s: float = Field(default=300.0, ge=0)
    jwks_min_refresh_s: float = Field(
        default=5.0, ge=0, description="an unknown kid refetches the JWKS at most this often"
    )
    revocation_poll_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="each replica reads new revocations (logout, password change, lock) from "
        "gateway_revocations this often: a revoked session's token is refused within it",
    )
    revocation_retain_s: float = Field(
        default=7200.0,
        ge=900,
        description="revocations are kept this long (≥ the longest access-token lifetime)",
    )
    # -- requests before authentication: the source address ---------------------------------
    trusted_proxies: str = Field(
        default="",
        description="CIDRs (comma or space separated) of reverse proxies whose "
        "X-Forwarded-For is believed: the source of a request from one of them is the "
        "right-most address of X-Forwarded-For that is not itself a trusted proxy; from any "
        "other peer X-Forwarded-For is ignored. Empty (default): the TCP peer is the source",
    )
    rate_limit_source_rps: float = Field(
        default=200.0,
        ge=0,
        description="every request per source address (before authentication, before the "
        "register is consulted); 0 turns it off. IPv6 sources are counted per /64",
    )
    rate_limit_source_burst: int = Field(default=400, ge=1)
    rate_limit_source_failures_rps: float = Field(
        default=1.0,
        ge=0,
        description="refusals before authorisation per source (401 bad or missing token, 404 "
        "unknown agency or operation): once a source used up its burst, every request from "
        "it is 429 until the bucket refills; 0 turns it off",
    )
    rate_limit_source_failures_burst: int = Field(default=20, ge=1)
    # -- routed exchange: forwarding -------------------------------------------------------
    require_purpose: bool = Field(
        default=True,
        description="agency calls that touch a data subject must declare X-Mesh-Purpose",
    )
    max_request_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=0,
        description="no routed body is larger, whatever the agency admits",
    )
    agency_max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        ge=0,
        description="the largest body an agency admits (meshkit's default for every service: "
        "1 MiB); a larger one is refused 413 at the gateway, before it is read or forwarded",
    )
    agency_body_limits: dict[str, int] = Field(
        default_factory=dict,
        description="per agency, overriding agency_max_body_bytes "
        "(GATEWAY_AGENCY_BODY_LIMITS='{\"notary\": 5242880}')",
    )
    buffer_request_bytes: int = Field(
        default=64 * 1024, description="bodies up to this size are buffered (retryable)"
    )
    buffer_response_bytes: int = Field(
        default=256 * 1024, description="responses up to this size are buffered before audit"
    )
    upstream_connect_timeout_s: float = 3.0
    upstream_max_connections: int = 256
    upstream_retries: int = Field(default=2, ge=0, description="idempotent methods only")
    upstream_retry_backoff_s: float = 0.05
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=10.0, gt=0)
    rate_limit_agency_rps: float = 500.0
    rate_limit_agency_burst: int = 1000
    rate_limit_citizen_rps: float = 10.0
    rate_limit_citizen_burst: int = 30
    rate_limit_anonymous_rps: float = 20.0
    rate_limit_anonymous_burst: int = 40
    register_file: Path | None = Field(
        default=None,
        description="JSON members/operations/grants for a static register (tests, bench, "
        "bootstrap); the Unified Register replaces it",
    )
    # -- audit ---------------------------------------------------------------------------
    instance_id: str = Field(
        default="gw-1",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="this replica's audit chain (one hash chain per gateway instance)",
    )
    audit_batch_max: int = Field(default=512, ge=1)
    audit_sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="NORMAL",
        description="SQLite audit commits (WAL): NORMAL — a commit is in the OS before the "
        "answer, so a killed gateway loses nothing, but a power cut may lose the last group "
        "commits; FULL — also fsync every group commit (survives power loss, costs an fsync)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: str) -> str:
        for part in value.replace(",", " ").split():
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"not a CIDR: {part!r}") from exc
        return value

    @property
    def trusted_networks(self) -> list[Network]:
        return [
            ipaddress.ip_network(p, strict=False)
            for p in self.trusted_proxies.replace(",", " ").split()
        ]

    def body_limit(self, agency: str) -> int:
        """The largest body routed to ``agency``."""
        return min(
            self.max_request_bytes, self.agency_body_limits.get(agency, self.agency_max_body_bytes)
        )

    @property
    def effective_identity_issuer(self) -> str:
        return self.identity_issuer or self.identity_url.rstrip("/")

    @property
    def effective_identity_jwks_url(self) -> str:
        return self.identity_jwks_url or f"{self.identity_url.rstrip('/')}/.well-known/jwks.json"
