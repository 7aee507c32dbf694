"""Prioritised target lists per science case: a public filter picks the candidates, a
documented ranking expression orders them, and the list exports to the TOM Toolkit (CSV)
and as a TNS AT-report draft (JSON). See ``docs/classifiers.md``.

:mod:`lanner.targets.cases` (the science cases and their ranking), :mod:`lanner.targets.lists`
(running a case on the archive), :mod:`lanner.targets.export` (CSV, JSON, TOM, TNS).
"""
