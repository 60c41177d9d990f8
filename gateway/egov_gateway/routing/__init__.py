"""The routed exchange: ``/x/{agency}/{path}`` and its X-Road form ``/r1/...``."""
