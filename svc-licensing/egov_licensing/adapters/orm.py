"""Tables of the licensing database (domain tables arrive with the licensing issue)."""

from sqlalchemy import MetaData

metadata = MetaData()
