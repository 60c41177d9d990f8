"""The licensing domain. Knows nothing of HTTP or SQL."""
