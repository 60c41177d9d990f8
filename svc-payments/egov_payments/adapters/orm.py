"""Tables of the payments database (domain tables arrive with the payments issue)."""

from sqlalchemy import MetaData

metadata = MetaData()
