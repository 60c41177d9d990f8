from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_", extra="ignore")
    service_name: ClassVar[str] = "payments"
    port: int = 8004
