"""The payments domain. Knows nothing of HTTP or SQL."""
