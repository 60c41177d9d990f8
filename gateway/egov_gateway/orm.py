"""The gateway database's one ``MetaData``: each area's ``adapters/tables`` registers its tables
on it (the migrations' env imports them all), and nothing here imports an area."""

from sqlalchemy import MetaData

metadata = MetaData()
