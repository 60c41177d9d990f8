"""Tables of the gateway database (register, members, audit arrive with the gateway issues)."""

from sqlalchemy import MetaData

metadata = MetaData()
