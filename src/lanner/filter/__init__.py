"""Filter: users' SQL, checked once and run safely on every batch and on the archive.

Input: a filter (Lasair's selected/tables/conditions, or one SELECT statement) and the
tables of the current batch or the archive. Output: the rows each filter returns. Side
effects: none; delivery is :mod:`lanner.distribute`'s job.

- :mod:`lanner.filter.guard` bounds the text and blanks its comments before parsing;
- :mod:`lanner.filter.language` parses both forms and generates the kit joins;
- :mod:`lanner.filter.validate` checks them against allow-lists, the catalog and the
  user's visibility; :mod:`lanner.filter.bounds` limits what a query can build or search;
- :mod:`lanner.filter.recheck` checks each engine's final SQL again from scratch;
- :mod:`lanner.filter.functions` turns Lanner's functions into each engine's SQL;
- :mod:`lanner.filter.compile` compiles once and caches the SQL per engine;
- :mod:`lanner.filter.execute` runs with a time limit and a row cap (DuckDB, SQLite,
  PostgreSQL); :mod:`lanner.filter.result_types` makes every result column writable;
  :mod:`lanner.filter.stream` runs all active filters of a batch;
- :mod:`lanner.filter.active` is the pipeline's filter stage (compiled active filters on
  each batch, why each match fired, owners told of failures);
- :mod:`lanner.filter.archive` answers on-demand queries; :mod:`lanner.filter.saved` and
  :mod:`lanner.filter.users` keep users and their filters (share, copy, activate, expire);
  :mod:`lanner.filter.access` says who may see or act on a filter and masks secrets;
- :mod:`lanner.filter.backtest` replays the archive through a filter;
  :mod:`lanner.filter.rerun` re-runs filters for objects just annotated or reclassified;
- :mod:`lanner.filter.bench` measures the stage.
"""
