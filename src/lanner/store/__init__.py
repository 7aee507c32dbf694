"""Store: the archive of alerts, light curves, cutouts, enriched tables and filter matches.

:func:`open_store` opens a SQLite file (the embedded default) or a PostgreSQL database
(with q3c for cone searches) behind one :class:`Store` interface.
"""

from lanner.store.backends import DatabaseUnavailableError, StoreError
from lanner.store.database import Store, WriteReport, open_store

__all__ = ["DatabaseUnavailableError", "Store", "StoreError", "WriteReport", "open_store"]
