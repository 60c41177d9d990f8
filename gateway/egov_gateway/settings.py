from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from egov_gateway.register.config import RegisterSettings
from meshkit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")
    service_name: ClassVar[str] = "gateway"
    port: int = 8000
    signing_key_pem: str | None = Field(
        default=None, description="PEM private key (Ed25519 or P-256) for X-Mesh-Assertion"
    )
    signing_key_file: Path | None = None

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
