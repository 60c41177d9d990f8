"""egov-mesh licensing service."""
