"""The notary domain. Knows nothing of HTTP or SQL."""
