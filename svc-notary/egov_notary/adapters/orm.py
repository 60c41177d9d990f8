"""Tables of the notary database (domain tables arrive with the notary issue)."""

from sqlalchemy import MetaData

metadata = MetaData()
