from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from egov_payments.sandbox_acquirer.settings import SandboxAcquirerSettings
from meshkit.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_", extra="ignore")
    service_name: ClassVar[str] = "payments"
    port: int = 8004

    acquirer_hmac_secret: str | None = Field(
        default=None,
        description="HMAC-SHA256 secret of the acquirer's callbacks; dev mode: generated",
    )
    callback_replay_window_s: int = Field(
        default=300, ge=1, description="a callback signed longer ago (or ahead) is refused"
    )
    default_acquirer: str = "sandbox"
    expiry_interval_s: float = Field(
        default=60.0, gt=0, description="how often overdue invoices expire"
    )
    business_utc_offset_hours: int = Field(
        default=5, description="Kazakhstan's single time zone (UTC+5): the day of a report"
    )
    invoice_issuers_for_any_agency: list[str] = Field(
        # none by default: the single window acts as the citizen, never as an issuer
        default_factory=list,
        description="clients that may issue invoices on behalf of another agency",
    )
    report_operators: list[str] = Field(
        default_factory=lambda: ["operator"],
        description="clients that see every agency's reconciliation (others: their own)",
    )
    legal_entity_duty_tiyn: dict[str, int] | None = Field(
        default=None,
        description="operator's override of the state duty for registering a legal entity, per "
        "legal form, in tiyn; unset (the default): the law's multiple of the MRP of the day "
        "(handlers.LEGAL_ENTITY_DUTY_QUARTER_MRP, meshkit.reference.mrp_tiyn)",
    )
    legal_entity_duty_days: int = Field(default=30, ge=1, description="days to pay the duty")
    seed_budget_tiyn: int = Field(
        default=100_000_000_000, description="dev seed: each demo budget account gets this much"
    )
    sandbox: SandboxAcquirerSettings = Field(default_factory=SandboxAcquirerSettings)

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_acquirer_secret(self) -> str | None:
        if self.acquirer_hmac_secret:
            return self.acquirer_hmac_secret
        if self.dev_mode:
            from meshkit.devsecrets import dev_secret

            return dev_secret("acquirer-hmac", self.data_dir)
        return None

    @property
    def effective_sandbox_secret(self) -> str | None:
        if self.sandbox.hmac_secret:
            return self.sandbox.hmac_secret
        if self.acquirer_hmac_secret:  # built in: the bank and payments share one secret
            return self.acquirer_hmac_secret
        if self.dev_mode:
            from meshkit.devsecrets import dev_secret

            return dev_secret("acquirer-hmac", self.data_dir)
        return None
