from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class LicensingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LICENSING_", extra="ignore")
    service_name: ClassVar[str] = "licensing"
    port: int = 8003
