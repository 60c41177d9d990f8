"""The routed exchange: ``/x/{agency}/{path}`` and its X-Road form ``/r1/...`` (DESIGN §4.2, §4.2a).

``domain/`` holds access rules, audit records and their hash chain, circuit breakers, token
buckets, header rules and the register port (pure Python); ``adapters/`` the agency transport,
token and mandate verification, the revocation table and deny list, the audit table, store and
writer; ``service_layer/`` the pipeline of a routed call, per-source limits and audit use cases.
"""
