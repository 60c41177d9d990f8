from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class NotarySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTARY_", extra="ignore")
    service_name: ClassVar[str] = "notary"
    port: int = 8005
