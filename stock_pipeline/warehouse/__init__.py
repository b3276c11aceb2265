"""The warehouse, a DuckLake: attaching it (``lake``), its tables and slice writes
(``tables``), one writer at a time (``writers``), commit conflicts (``commits``), upkeep
(``maintenance``), importing an old DuckDB file (``migrate``), the read-only connection for
people (``reader``), completeness.

Storage only: SQL and files. Imports ``domain`` and ``settings``; never Dagster, never Yahoo.
"""
