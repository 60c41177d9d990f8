"""Use cases of the registry: each takes a unit of work (and the ports it needs)."""
