"""The service layer: use cases of svc-identity, each on one unit of work."""
