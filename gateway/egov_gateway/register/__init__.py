"""The Unified Register of public services and members (DESIGN §4.1, §4.2a).

``domain/`` holds members, operations, public services, composite steps, grants and outage
intervals (pure Python); ``adapters/`` the tables, the repository and the HTTP client that
fetches members' OpenAPI documents and probes their readiness; ``service_layer/`` the use
cases and :class:`UnifiedRegister`, the in-memory snapshot that implements the
:class:`~egov_gateway.exchange.domain.register_port.RegisterPort` the routed exchange calls.
"""
