"""egov-mesh gateway service."""
