"""The registry domain. Knows nothing of HTTP or SQL."""
