"""The metadata every table of the stores registers on."""

from sqlalchemy import MetaData

metadata = MetaData()
