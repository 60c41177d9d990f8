"""Tables of the gateway database (register, members, audit arrive with the gateway issues)."""

from sqlalchemy import MetaData

metadata = MetaData()

# tables of the routed exchange's audit log register themselves on ``metadata``
from egov_gateway.adapters import audit_tables as _audit_tables  # noqa: E402, F401
