from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")
    service_name: ClassVar[str] = "gateway"
    port: int = 8000
    signing_key_pem: str | None = Field(
        default=None, description="PEM private key (Ed25519 or P-256) for X-Mesh-Assertion"
    )
    signing_key_file: Path | None = None
