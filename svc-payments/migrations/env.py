from egov_payments.adapters.orm import metadata
from egov_payments.sandbox_acquirer.tables import sandbox_metadata
from meshkit.migrations import run_env

run_env(metadata, sandbox_metadata)
