from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")
    service_name: ClassVar[str] = "registry"
    port: int = 8002

    document_key_pem: str | None = Field(
        default=None, description="PEM private key (EC P-256) that signs certificates"
    )
    document_chain_pem: str | None = Field(
        default=None, description="PEM certificate chain of that key, issued by the national CA"
    )
    certificate_validity_days: int = Field(
        default=30, ge=1, le=365, description="how long an issued certificate stays valid"
    )
