"""Moved to :mod:`egov_gateway.exchange.domain.register_port` (issue 21); this name stays only
until ``register/service_layer/register.py`` imports it from there."""

from egov_gateway.exchange.domain.register_port import (  # noqa: F401
    RegisterPort,
    ResolvedOperation,
)
