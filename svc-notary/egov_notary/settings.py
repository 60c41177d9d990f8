from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.reference import kbk
from meshkit.settings import ServiceSettings


class NotarySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTARY_", extra="ignore")
    service_name: ClassVar[str] = "notary"
    port: int = 8005

    mrp_tiyn: int | None = Field(
        default=None,
        gt=0,
        description="operator's override of the monthly calculation index (MRP) in tiyn; unset "
        "(the default): the MRP of the day from meshkit.reference.mrp_tiyn, the one table",
    )
    fee_kbk: str = Field(
        default_factory=lambda: kbk("state_duty_notarial_actions"),
        pattern=r"^[0-9]{6}$",
        description="budget classification code of the notarial state duty (default: the line "
        "payments budgets for it, shared/meshkit/reference/payments/kbk.json)",
    )
    invoice_due_days: int = Field(default=10, ge=1, le=90)
    notary_registrars: list[str] = Field(
        default=["licensing"],
        description="agency clients allowed to register notaries and change their status "
        "(licensing issues notary licenses; the gateway's client is not one: it acts for "
        "citizens on their own authority)",
    )
