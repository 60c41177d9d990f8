"""The identity domain: persons, credentials, tokens, certificates, consents.

Pure Python (dataclasses and rules); knows nothing of HTTP or SQL. Aggregates record the
events others must hear about in ``events``; the service layer emits them through the unit
of work (transactional outbox).
"""
