"""The surveys Lanner serves and their object-id columns: names only, no science stack, so
that reading the schema (and every command that only reads the database's records) starts
fast. :mod:`lanner.batch` re-exports them beside the batch types.
"""

from __future__ import annotations

from typing import Literal

Survey = Literal["ztf", "lsst"]
SURVEYS: tuple[Survey, ...] = ("ztf", "lsst")

#: Name of the object id column in the stored tables, per survey (Lasair's).
OBJECT_ID_COLUMN: dict[str, str] = {"ztf": "objectId", "lsst": "diaObjectId"}
