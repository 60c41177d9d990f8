"""The registry domain: civil-status acts, legal entities, real estate, certificates.

Pure Python — dataclasses and rules. Knows nothing of HTTP or SQL.
"""
