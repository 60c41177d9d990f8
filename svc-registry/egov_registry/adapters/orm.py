"""Tables of the registry database (domain tables arrive with the registry issue)."""

from sqlalchemy import MetaData

metadata = MetaData()
