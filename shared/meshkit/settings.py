"""Settings base shared by every service (pydantic-settings, one env prefix per service).

A few settings are mesh-wide (one broker, one data directory, one dev switch for the whole
machine); they are read from unprefixed variables as a fallback so an operator sets them once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# field name -> unprefixed environment variables consulted when the prefixed one is absent
MESH_WIDE_FALLBACKS: dict[str, tuple[str, ...]] = {
    "kafka_bootstrap_servers": ("KAFKA_BOOTSTRAP_SERVERS", "MESH_KAFKA_BOOTSTRAP_SERVERS"),
    "data_dir": ("MESH_DATA_DIR",),
    "dev_mode": ("MESH_DEV_MODE",),
    "gateway_url": ("MESH_GATEWAY_URL",),
    "identity_url": ("MESH_IDENTITY_URL",),
    "log_json": ("MESH_LOG_JSON",),
    "log_level": ("MESH_LOG_LEVEL",),
    "kafka_enabled": ("MESH_KAFKA_ENABLED",),
    "otel_enabled": ("MESH_OTEL_ENABLED",),
    "topic_prefix": ("MESH_TOPIC_PREFIX",),
    "host": ("MESH_HOST",),
}


class _MeshWideEnv(PydanticBaseSettingsSource):
    """Lowest-priority source: the unprefixed mesh-wide variables."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        for var in MESH_WIDE_FALLBACKS.get(field_name, ()):
            if var in os.environ:
                return os.environ[var], field_name, False
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            value, key, _ = self.get_field_value(self.settings_cls.model_fields[name], name)
            if value is not None:
                found[key] = value
        return found


class KafkaSecuritySettings(BaseSettings):
    """How this process authenticates to Kafka (``MESH_KAFKA_*``; one principal per agency).

    PLAINTEXT (the default) is for ``make run`` on loopback only; a multi-agency deployment
    sets SASL_SSL (or SASL_PLAINTEXT inside a private network) with the agency's own SCRAM
    user, whose ACLs (``meshkit.kafka_acls``) limit what it may read and write.
    """

    # hide_input_in_errors: a validation error must not print the password it was given
    model_config = SettingsConfigDict(
        env_prefix="MESH_KAFKA_", extra="ignore", hide_input_in_errors=True
    )

    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None  # SecretStr: never printed by repr() or logs
    ssl_cafile: Path | None = Field(
        default=None, description="CA bundle for SASL_SSL (default: the system's)"
    )

    @model_validator(mode="after")
    def _credentials_with_sasl(self) -> KafkaSecuritySettings:
        if self.security_protocol != "PLAINTEXT" and not (
            self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                f"MESH_KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "MESH_KAFKA_SASL_USERNAME and MESH_KAFKA_SASL_PASSWORD"
            )
        return self

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        if self.security_protocol == "PLAINTEXT":
            return {}
        assert self.sasl_password is not None  # checked by the validator
        options: dict[str, Any] = {
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": self.sasl_password.get_secret_value(),
        }
        if self.security_protocol == "SASL_SSL":
            from aiokafka.helpers import create_ssl_context

            cafile = str(self.ssl_cafile) if self.ssl_cafile else None
            options["ssl_context"] = create_ssl_context(cafile=cafile)
        return options


class ServiceSettings(BaseSettings):
    """What every service needs. Subclasses set ``service_name``, ``env_prefix`` and ``port``."""

    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    service_name: ClassVar[str] = "service"

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="URL other parties use to reach this service"
    )
    data_dir: Path = Field(default=Path(".data"), description="where embedded SQLite files live")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: SQLite file in data_dir"
    )
    db_pool_size: int = 10
    migrate_on_start: bool = True
    dev_mode: bool = Field(
        default=False, description="dev conveniences (generated keys, SMS reader, demo data)"
    )

    kafka_enabled: bool = True
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field(default="", description="prefix for every topic (tests isolate)")
    consumer_group: str | None = None
    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = 0.2
    consumer_max_attempts: int = 5
    consumer_max_batch: int = Field(
        default=2000, ge=1, description="most events one partition applies in one transaction"
    )
    gc_gen0_threshold: int = Field(
        default=50_000,
        ge=700,
        description="allocations between young-generation garbage collections (CPython's "
        "default is 700: every event allocates dozens of short-lived objects, so at the default "
        "the collector runs every few events and costs the consumer a third of its rate)",
    )

    gateway_url: str = "http://127.0.0.1:8000"
    gateway_jwks_url: str | None = None
    identity_url: str = "http://127.0.0.1:8001"
    client_secret: str | None = Field(
        default=None,
        description="OAuth2 client secret of this service at svc-identity (client id = name)",
    )

    log_level: str = "INFO"
    log_json: bool = True
    otel_enabled: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            _MeshWideEnv(settings_cls),
        )

    # -- derived values -------------------------------------------------------------------
    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = (self.data_dir / f"{self.service_name}.db").resolve()
        return f"sqlite+aiosqlite:///{path}"

    @property
    def effective_client_secret(self) -> str | None:
        """The configured secret; in dev mode a per-machine generated one."""
        if self.client_secret:
            return self.client_secret
        if self.dev_mode:
            from meshkit.devsecrets import dev_secret

            return dev_secret(f"client:{self.service_name}", self.data_dir)
        return None

    @property
    def token_url(self) -> str:
        return f"{self.identity_url.rstrip('/')}/oauth/token"

    @property
    def effective_gateway_jwks_url(self) -> str:
        return self.gateway_jwks_url or f"{self.gateway_url.rstrip('/')}/.well-known/jwks.json"

    @property
    def effective_consumer_group(self) -> str:
        return self.consumer_group or f"svc-{self.service_name}"

    @property
    def source(self) -> str:
        """CloudEvents ``source`` of this service."""
        return f"/svc-{self.service_name}"

    def topic(self, producer: str) -> str:
        """The topic a producing service publishes to (``egov.<producer>``)."""
        return f"{self.topic_prefix}egov.{producer}"

    @property
    def own_topic(self) -> str:
        return self.topic(self.service_name)
