"""meshkit: the common library of egov-mesh."""
