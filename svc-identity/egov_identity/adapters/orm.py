"""Tables of the identity database (domain tables arrive with the identity issue)."""

from sqlalchemy import MetaData

metadata = MetaData()
