"""Tuning of the register: defined with the gateway's settings (:mod:`egov_gateway.settings`)."""

from egov_gateway.settings import RegisterSettings

__all__ = ["RegisterSettings"]
