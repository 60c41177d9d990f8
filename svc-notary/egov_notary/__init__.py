"""egov-mesh notary service."""
