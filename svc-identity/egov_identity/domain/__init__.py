"""The identity domain: persons, credentials, certificates. Knows nothing of HTTP or SQL."""
