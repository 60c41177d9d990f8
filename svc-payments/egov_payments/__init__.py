"""egov-mesh payments service."""
