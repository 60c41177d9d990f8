"""HTTP entrypoints of svc-payments."""

from fastapi import APIRouter

from egov_payments.api import callbacks, invoices, payouts

routers: list[APIRouter] = [invoices.router, payouts.router, callbacks.router]
