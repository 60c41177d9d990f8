"""Reference data owned by svc-payments (loaded and validated by :mod:`egov_payments.domain`)."""
