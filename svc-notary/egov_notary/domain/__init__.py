"""The notary domain: notaries, notarial acts, their checks and signatures. Knows nothing of
HTTP or SQL."""
