"""egov-mesh identity service."""
