"""Settings of the built-in sandbox acquirer (env prefix ``SANDBOX_ACQUIRER_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxAcquirerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANDBOX_ACQUIRER_", extra="ignore")

    enabled: bool = Field(
        default=True, description="mount the sandbox bank under /sandbox-acquirer"
    )
    code: str = "sandbox"
    hmac_secret: str | None = Field(
        default=None,
        description="secret the bank signs callbacks with (shared with payments); "
        "dev mode: generated per machine",
    )
    callback_url: str | None = Field(
        default=None,
        description="where callbacks go; default <payments public URL>/acquirer/callbacks",
    )
    public_url: str | None = Field(
        default=None, description="base URL of the payment page; default <payments public URL>"
    )
    callback_delay_s: float = Field(
        default=1.0, ge=0, description="how long the bank waits to call back"
    )
    max_attempts: int = Field(
        default=6, ge=1, description="deliveries of one callback before giving up"
    )
    retry_backoff_s: float = Field(default=0.5, ge=0)
