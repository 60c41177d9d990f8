from egov_gateway.adapters.orm import metadata
from egov_gateway.register.adapters import tables as _register_tables  # noqa: F401  (registers them)
from meshkit.migrations import run_env

run_env(metadata)
