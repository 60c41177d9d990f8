"""Use cases of svc-licensing: each takes a unit of work and commits once."""
