from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class NotarySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTARY_", extra="ignore")
    service_name: ClassVar[str] = "notary"
    port: int = 8005

    mrp_tiyn: int = Field(
        default=432_500, gt=0, description="monthly calculation index (MRP) in tiyn; fees use it"
    )
    fee_kbk: str = Field(
        default="108111",
        pattern=r"^[0-9]{6}$",
        description="budget classification code of the notarial state duty",
    )
    invoice_due_days: int = Field(default=10, ge=1, le=90)
    notary_registrars: list[str] = Field(
        default=["licensing"],
        description="agency clients allowed to register notaries and change their status "
        "(licensing issues notary licenses; the gateway's client is not one: it acts for "
        "citizens on their own authority)",
    )
