from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")
    service_name: ClassVar[str] = "registry"
    port: int = 8002
