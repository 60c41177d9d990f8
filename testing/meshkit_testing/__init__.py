"""Test kit of egov-mesh (the dev-only workspace member ``egov-mesh-testing``): the pytest
plugin and its fixtures, infrastructure selection, local Kafka/PostgreSQL (``devinfra``),
polling, contract doubles and the in-process mesh. Imported by tests, benchmarks and
``deploy/local``; never by a service, and in no service's wheel or image."""
