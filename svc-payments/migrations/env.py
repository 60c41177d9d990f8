from egov_payments.adapters.orm import metadata
from meshkit.migrations import run_env

run_env(metadata)
