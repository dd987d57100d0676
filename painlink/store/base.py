"""The one SQLAlchemy metadata (and declarative base) every painlink table joins.

Why its own module: the diary tables (:mod:`painlink.store.tables`) and the web app's
account tables (:mod:`painlink.store.account_tables`) share one metadata so Alembic
migrates both; each imports it from here, so neither imports the other to reach it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Base(DeclarativeBase):
    metadata = metadata
