"""Use cases of the exchange: the routed call's pipeline, audit search and verification."""
