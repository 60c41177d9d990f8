"""A built-in sandbox acquirer: a pretend bank with a payment page, HMAC-signed callbacks and a
daily statement. It has its own settings (``SANDBOX_ACQUIRER_``) and its own tables; payments
talks to it only through the :class:`~egov_payments.domain.acquirer.Acquirer` port."""
