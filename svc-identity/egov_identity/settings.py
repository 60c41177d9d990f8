from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")
    service_name: ClassVar[str] = "identity"
    port: int = 8001

    # -- token issuer ---------------------------------------------------------------------
    signing_key_pem: str | None = Field(
        default=None, description="PEM private key (Ed25519 or EC P-256) that signs tokens"
    )
    signing_key_file: Path | None = None
    access_token_ttl_s: int = Field(default=600, ge=300, le=900)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=600)
    audience: str = "egov-mesh"
    key_cache_s: float = Field(
        default=5.0, description="how long an instance trusts its cached key ring"
    )

    # -- national CA ----------------------------------------------------------------------
    ca_key_pem: str | None = Field(default=None, description="PEM private key of the root CA")
    ca_key_file: Path | None = None
    ca_cert_pem: str | None = Field(
        default=None, description="PEM root certificate (else self-signed once, kept in the DB)"
    )
    ca_name: str = "Ulttyq kualandyrushy ortalyq (egov-mesh National CA)"
    citizen_certificate_days: int = 365
    agency_certificate_days: int = 730

    # -- citizen login --------------------------------------------------------------------
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4
    password_min_length: int = 8
    login_max_failures: int = Field(
        default=5, description="failed passwords/codes in a row before the account locks"
    )
    lockout_s: int = 900
    otp_ttl_s: int = 300
    otp_max_attempts: int = 3
    otp_max_per_window: int = Field(default=5, description="codes sent per IIN per window")
    otp_window_s: int = 900
    otp_pepper: str | None = Field(default=None, description="HMAC secret for stored codes")
    signature_challenge_ttl_s: int = 120
    login_rate_per_minute: float = Field(
        default=5.0,
        ge=0,
        description="per IIN: password logins (and, in a bucket of their own, password reset "
        "requests) a minute; 0 disables",
    )
    login_rate_burst: int = Field(default=5, ge=0, description="per IIN: saved-up logins")
    otp_rate_per_minute: float = Field(
        default=5.0, ge=0, description="per IIN: one-time code answers a minute; 0 disables"
    )
    otp_rate_burst: int = Field(default=5, ge=0, description="per IIN: saved-up code answers")
    lock_revokes_sessions: bool = Field(
        default=True,
        description="a lockout (repeated wrong passwords/codes) also revokes every session",
    )

    # -- SMS delivery (one-time codes, notices) -------------------------------------------
    sms_provider: Literal["auto", "outbox", "http"] = Field(
        default="auto",
        description="auto: the dev outbox in dev mode, else the HTTP SMS gateway (identity "
        "refuses to start without SMS_GATEWAY_URL); outbox: texts stay in the sms_outbox table "
        "for a relay of your own (never for citizens' phones without one)",
    )
    sms_gateway_url: str | None = Field(
        default=None, description="the SMS provider's send endpoint (POST, JSON)"
    )
    sms_gateway_token: SecretStr | None = Field(
        default=None, description="the provider's API token (sent as Authorization: Bearer)"
    )
    sms_gateway_token_file: Path | None = Field(
        default=None, description="a file holding the token (a mounted secret)"
    )
    sms_sender: str = Field(default="egov", description="the sender name the provider shows")
    sms_timeout_s: float = Field(default=5.0, gt=0, le=30)
    sms_attempts: int = Field(default=3, ge=1, le=10, description="tries per text (tenacity)")
    sms_retry_backoff_s: float = Field(default=0.5, ge=0, le=10)
    sms_max_attempts_queued: int = Field(
        default=10, ge=1, description="rounds a queued notice is retried before it is failed"
    )

    # -- public service centres (ЦОН) ----------------------------------------------------
    centre_consent_ttl_s: int = Field(
        default=600, ge=60, le=1800, description="life of a citizen's consent token"
    )
    operator_centres: dict[str, str] = Field(
        default_factory=dict,
        description="operator IIN → the code of the centre they work at (JSON)",
    )
    default_centre: str = Field(
        default="con-astana-1", description="the centre of an operator not listed above"
    )

    # -- agencies and administration -----------------------------------------------------
    admin_token: str | None = Field(
        default=None, description="bearer token of the admin endpoints (clients, key rotation)"
    )
    person_registrars: list[str] = Field(
        default_factory=lambda: ["registry"],
        description="agencies allowed to create persons, change names and record deaths",
    )

    @property
    def issuer(self) -> str:
        return (self.public_url or self.identity_url).rstrip("/")

    @property
    def effective_sms_token(self) -> str | None:
        if self.sms_gateway_token is not None:
            return self.sms_gateway_token.get_secret_value()
        if self.sms_gateway_token_file is not None:
            return self.sms_gateway_token_file.read_text().strip()
        return None

    def centre_of(self, operator_iin: str) -> str:
        return self.operator_centres.get(operator_iin, self.default_centre)

    @property
    def effective_admin_token(self) -> str | None:
        if self.admin_token:
            return self.admin_token
        if self.dev_mode:
            from meshkit.devsecrets import dev_secret

            return dev_secret("identity-admin-token", self.data_dir)
        return None
