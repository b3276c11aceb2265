"""The warehouse: DuckDB tables, transactional slice writes, the writer lock, completeness.

Storage only: SQL and files. Imports ``domain`` and ``settings``; never Dagster, never Yahoo.
"""
