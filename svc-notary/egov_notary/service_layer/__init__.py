"""The service layer: use cases of svc-notary over a unit of work."""
