"""egov-mesh registry service."""
