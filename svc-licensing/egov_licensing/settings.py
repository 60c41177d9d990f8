from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.settings import ServiceSettings


class LicensingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LICENSING_", extra="ignore")
    service_name: ClassVar[str] = "licensing"
    port: int = 8003

    # who is an officer (see README "Officers"): an agency back office calling with an
    # officer purpose, or a person on the agency's roster of officers
    officer_clients: list[str] = Field(
        default=["licensing"],
        description="agency callers whose calls with an 'officer…' purpose are officers'",
    )
    officer_purpose_prefix: str = "officer"
    officer_iins: list[str] = Field(
        default_factory=list, description="IINs of licensing officers (their citizen login)"
    )

    sla_check_interval_s: float = Field(default=30.0, gt=0)
    retry_interval_s: float = Field(
        default=15.0, gt=0, description="retry of invoices and document signatures pending"
    )
    invoice_due_days: int = Field(default=30, ge=1)

    # document signing key certified by the national CA (PEM); dev mode obtains one itself
    document_key_pem: str | None = None
    document_chain_pem: str | None = None
